package htmlreport

import (
	"bytes"
	"context"
	"flag"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/estate"
	"github.com/patchrun/patchrun/estate/estatetest"
	"github.com/patchrun/patchrun/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fixtureReport is the estate fixture's report of sel.
func fixtureReport(t testing.TB, sel estate.Selection) *estate.Report {
	t.Helper()
	_, st := estatetest.Fixture(t)
	r, err := estate.Load(context.Background(), st, sel)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func writeString(t testing.TB, r *estate.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The page for the fixture's newest run is byte for byte the golden file
// (go test ./htmlreport -run Golden -update rewrites it after a deliberate
// change; look at it in a browser before committing).
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		sel  estate.Selection
	}{
		{"last.html", estate.Selection{Last: true}},
		{"since.html", estate.Selection{Since: 60 * 24 * time.Hour, Now: estatetest.T0.Add(50 * 24 * time.Hour)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := writeString(t, fixtureReport(t, c.sel))
			if again := writeString(t, fixtureReport(t, c.sel)); again != got {
				t.Fatal("two renders of the same report differ")
			}
			path := filepath.Join("testdata", c.name)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("page differs from %s (run with -update after a deliberate change); first difference near: %q",
					path, firstDiff(got, string(want)))
			}
		})
	}
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[max(i-60, 0):min(i+60, len(a))]
}

// The page loads nothing: no URL in any attribute that fetches, and a
// content security policy that forbids every request, whose hashes match
// the page's own style and script (a stale hash would switch them off).
func TestSelfContained(t *testing.T) {
	page := writeString(t, fixtureReport(t, estate.Selection{Last: true}))
	if m := regexp.MustCompile(`(?i)\b(src|href|xlink:href|action|poster|data)\s*=\s*"(https?:|//|file:)[^"]*"`).FindString(page); m != "" {
		t.Errorf("page refers to %s", m)
	}
	if strings.Contains(page, "url(") || strings.Contains(page, "@import") {
		t.Error("the style loads something")
	}
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	if csp == nil {
		t.Fatal("no content security policy")
	}
	policy := html.UnescapeString(csp[1])
	if !strings.HasPrefix(policy, "default-src 'none';") {
		t.Fatalf("the policy does not deny by default: %q", policy)
	}
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(page)
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(page)
	if style == nil || script == nil {
		t.Fatal("no inline style or script")
	}
	for what, body := range map[string]string{"style": style[1], "script": script[1]} {
		if !strings.Contains(policy, hashOf(body)) {
			t.Errorf("the policy does not allow the page's own %s (hash %s not in %q)", what, hashOf(body), policy)
		}
	}
}

// Text from hosts (names, errors, output, update names) is escaped: a
// host cannot put markup or script into the page.
func TestRemoteTextEscaped(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	end := at.Add(time.Minute)
	evil := `<script>alert(1)</script>`
	r := &estate.Report{AsOf: end, Runs: []estate.Run{{
		ID: "20261201T100000Z-evil", Command: report.CmdPatch, StartedAt: at, EndedAt: &end, State: "finished",
		Hosts: []estate.Host{{
			Name: evil, Address: `"><img src=x onerror=alert(2)>`, OS: `</title><svg onload=alert(3)>`,
			Status: report.StatusFailed, ErrorKind: "install", Error: `<b onmouseover=alert(4)>boom</b>`,
			Output:   "</pre><iframe src=//evil.example></iframe>",
			Pending:  []estate.Update{{Name: `x" onclick="alert(5)`, Security: true, CVEs: []string{`<i>CVE</i>`}}},
			Timeline: []estate.Segment{{Phase: `installing"><script>alert(6)</script>`, Start: at, End: end}},
		}},
	}}, Management: estate.Management{Hosts: 1, Failures: []estate.Failure{{Host: evil, Status: report.StatusFailed, Error: "<u>x</u>"}},
		RebootNeeded: []string{evil}}, Changes: estate.Changes{NewlyFailing: []estate.Change{{Host: evil, Before: "<ok>", After: "failed"}}}}
	page := writeString(t, r)
	for _, raw := range []string{"<script>alert", "<img", "<svg onload", "<b onmouseover", "<iframe", `" onclick="`, "<i>CVE", "<u>x", "<ok>"} {
		if strings.Contains(page, raw) {
			t.Errorf("remote text %q reached the page unescaped", raw)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the host's name is not shown escaped")
	}
	if n := strings.Count(page, "<script>"); n != 1 {
		t.Errorf("%d script elements, want only the page's own", n)
	}
}

// A host no scan reached in the run (db1 is unreachable in the
// fixture's newest run) shows its updates as unknown, not as a clean 0.
func TestUnscannedHostIsNotShownClean(t *testing.T) {
	page := writeString(t, fixtureReport(t, estate.Selection{Last: true}))
	row := regexp.MustCompile(`(?s)<tbody class="host[^"]*" id="host-db1".*?</tr>`).FindString(page)
	if row == "" {
		t.Fatal("no row for db1")
	}
	if strings.Contains(row, `0 <span class="dim">(0)</span>`) || !strings.Contains(row, ">unknown</span>") {
		t.Errorf("db1 (unreachable, not scanned) row:\n%s", row)
	}
}

// The trend's heading counts the runs it shows, in words that fit one.
func TestTrendHeading(t *testing.T) {
	for run, want := range map[string]string{
		estatetest.RunScan1: "<h3>Trend (one run so far)</h3>",
		estatetest.RunPatch: "<h3>Trend over the last 2 runs</h3>",
	} {
		if page := writeString(t, fixtureReport(t, estate.Selection{RunID: run})); !strings.Contains(page, want) {
			t.Errorf("report of %s: no %q", run, want)
		}
	}
}
