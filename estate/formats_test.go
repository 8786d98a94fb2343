package estate_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	junit "github.com/joshdk/go-junit"

	"github.com/patchrun/patchrun/estate"
	"github.com/patchrun/patchrun/estate/estatetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./estate -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./estate -update rewrites it); got:\n%s", name, got)
	}
}

func render(t *testing.T, rep *estate.Report, f estate.Format, o estate.Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := estate.Write(&b, f, rep, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fixtureSince is every fixture run: the patch run and the last scan
// make the JUnit and CSV files cover more than one run.
func fixtureAll(t *testing.T) *estate.Report {
	return load(t, estate.Selection{Since: 100 * 24 * 3600e9, Now: estatetest.T0.Add(50 * 24 * 3600e9)})
}

func TestGoldenFormats(t *testing.T) {
	last := load(t, estate.Selection{Last: true})
	all := fixtureAll(t)
	golden(t, "last.md", render(t, last, estate.FormatMarkdown, estate.Options{}))
	golden(t, "last.json", render(t, last, estate.FormatJSON, estate.Options{}))
	golden(t, "all.junit.xml", render(t, all, estate.FormatJUnit, estate.Options{}))
	golden(t, "all.hosts.csv", render(t, all, estate.FormatCSV, estate.Options{}))
	golden(t, "all.updates.csv", render(t, all, estate.FormatCSV, estate.Options{CSVRows: estate.CSVUpdates}))
	_, st := estatetest.Fixture(t)
	m, err := estate.LoadMetrics(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := estate.WriteMetrics(&b, m); err != nil {
		t.Fatal(err)
	}
	golden(t, "metrics.prom", b.Bytes())
}

// TestJUnitReadByAJUnitConsumer parses the JUnit file with go-junit, a
// JUnit XML reader as CI tools use, and checks what it understood.
func TestJUnitReadByAJUnitConsumer(t *testing.T) {
	data := render(t, fixtureAll(t), estate.FormatJUnit, estate.Options{})
	suites, err := junit.Ingest(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(suites) != 4 {
		t.Fatalf("%d suites, want one per run (4)", len(suites))
	}
	patchSuite := suites[1]
	if patchSuite.Totals.Tests != 4 || patchSuite.Totals.Failed != 1 || patchSuite.Totals.Passed != 3 {
		t.Fatalf("patch run totals %+v, want 4 tests, 1 failed", patchSuite.Totals)
	}
	var web2 *junit.Test
	for i, tc := range patchSuite.Tests {
		if tc.Name == "web2" {
			web2 = &patchSuite.Tests[i]
		}
	}
	if web2 == nil || web2.Classname != "web" || web2.Status != junit.StatusFailed || web2.Error == nil {
		t.Fatalf("web2 %+v, want a failure in class web", web2)
	}
	var fe junit.Error
	if !errors.As(web2.Error, &fe) || fe.Type != "install" || !strings.Contains(fe.Body, "dpkg returned an error code") {
		t.Fatalf("web2's failure %#v, want type install with the output excerpt", web2.Error)
	}
	lastSuite := suites[3]
	for _, tc := range lastSuite.Tests {
		if tc.Name == "db1" && (tc.Status != junit.StatusFailed || tc.Classname != "db") {
			t.Fatalf("db1 in the last run: %+v, want an unreachable failure in class db", tc)
		}
	}
}

func TestJUnitSkippedHostAndHostileText(t *testing.T) {
	rep := load(t, estate.Selection{Last: true})
	h := &rep.Runs[0].Hosts[0]
	h.Status, h.Error = "skipped", "run halted \x1b[31m<before> & \"this\"\x00"
	data := render(t, rep, estate.FormatJUnit, estate.Options{})
	if err := xml.Unmarshal(data, new(struct{})); err != nil {
		t.Fatalf("not well-formed XML: %v", err)
	}
	suites, err := junit.Ingest(data)
	if err != nil {
		t.Fatal(err)
	}
	tc := suites[0].Tests[0]
	if tc.Status != junit.StatusSkipped || !strings.Contains(tc.Message, `<before> & "this"`) {
		t.Fatalf("skipped host %+v", tc)
	}
}

func TestCSVIsRFC4180(t *testing.T) {
	rep := fixtureAll(t)
	rep.Runs[1].Hosts[0].Error = "line one\nsays \"x\", then y"
	data := render(t, rep, estate.FormatCSV, estate.Options{})
	if !bytes.Contains(data, []byte("\r\n")) || bytes.Count(data, []byte("\n")) != bytes.Count(data, []byte("\r\n")) {
		t.Fatal("lines do not end in CRLF")
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][2] != "host" || len(rows) != 1+4+4+1+4 {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	if rows[5][8] != "line one\nsays \"x\", then y" {
		t.Fatalf("error field read back as %q", rows[5][8])
	}
	if err := estate.Write(io.Discard, estate.FormatCSV, rep, estate.Options{CSVRows: "packages"}); err == nil || !strings.Contains(err.Error(), "--csv-rows") {
		t.Fatalf("bad --csv-rows: %v", err)
	}
}

func TestMarkdownEscapesRemoteText(t *testing.T) {
	rep := load(t, estate.Selection{Last: true})
	rep.Management.Failures[0].Error = "boom | <img src=x> `rm`\n# title"
	md := string(render(t, rep, estate.FormatMarkdown, estate.Options{}))
	if !strings.Contains(md, `boom \| \<img src=x\> \`+"`rm\\` \\# title") {
		t.Fatalf("markdown did not escape the error:\n%s", md)
	}
}

func TestFormatOfPathAndHTMLSeam(t *testing.T) {
	for path, want := range map[string]estate.Format{"r.html": estate.FormatHTML, "ci/junit.XML": estate.FormatJUnit,
		"a.csv": estate.FormatCSV, "s.md": estate.FormatMarkdown, "r.json": estate.FormatJSON} {
		if f, err := estate.FormatOfPath(path); err != nil || f != want {
			t.Errorf("%s: %v %v, want %s", path, f, err, want)
		}
	}
	if _, err := estate.FormatOfPath("report.txt"); err == nil || !strings.Contains(err.Error(), ".xml (JUnit)") {
		t.Fatalf("unknown extension: %v", err)
	}
	rep := load(t, estate.Selection{Last: true})
	if err := estate.Write(io.Discard, estate.FormatHTML, rep, estate.Options{}); !errors.Is(err, estate.ErrNoHTML) {
		t.Fatalf("html without a renderer: %v", err)
	}
	var got *estate.Report
	html := func(w io.Writer, r *estate.Report) error { got = r; _, err := io.WriteString(w, "<html>"); return err }
	if out := render(t, rep, estate.FormatHTML, estate.Options{HTML: html}); string(out) != "<html>" || got != rep {
		t.Fatalf("html renderer not called with the report: %q", out)
	}
}

func TestWriteFileIsAtomicAndPrivate(t *testing.T) {
	rep := load(t, estate.Selection{Last: true})
	path := filepath.Join(t.TempDir(), "r.md")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := estate.WriteFile(path, estate.FormatHTML, rep, estate.Options{}); err == nil {
		t.Fatal("no error from a failing renderer")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("a failed write changed the file: %q", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("temporary file left behind: %v", ents)
	}
	if err := estate.WriteFile(path, estate.FormatMarkdown, rep, estate.Options{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v, want 0600", fi.Mode(), err)
	}
}
