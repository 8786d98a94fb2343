package savedplan

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

var t0 = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)

func scanReport() report.Report {
	r := report.New(report.CmdScan, false, t0)
	r.Finish([]report.HostResult{
		{Name: "web1", Status: report.StatusOK, OS: "debian 12", PackageManager: "apt", Updates: []report.Update{
			{Update: patch.Update{Name: "openssl", Arch: "amd64", Current: "3.0.1", Available: "3.0.2", Security: true}},
			{Update: patch.Update{Name: "tzdata", Arch: "all", Current: "2025a", Available: "2025b"}},
		}},
		{Name: "web2", Status: report.StatusUnreachable, Error: "connect: connection refused"},
		{Name: "win1", Status: report.StatusOK, PackageManager: "windows-update", Updates: []report.Update{
			{Update: patch.Update{Name: "2026-11 Cumulative Update", KB: "KB5050001", ID: "a1b2-c3", Security: true}},
		}},
	}, t0)
	return r
}

func TestBuildKeepsOnlyHostsScannedOKAndSplitsTheSelection(t *testing.T) {
	p := Build(scanReport(), Selection{SecurityOnly: true}, "/inv/hosts.yaml", "web*", t0)
	if len(p.Hosts) != 2 || p.Hosts[0].Name != "web1" || p.Hosts[1].Name != "win1" {
		t.Fatalf("hosts %+v", p.Hosts)
	}
	want := []Update{{Name: "openssl", Arch: "amd64", Current: "3.0.1", Target: "3.0.2", Security: true}}
	if !reflect.DeepEqual(p.Hosts[0].Updates, want) || len(p.Hosts[0].NotSelected) != 1 || p.Hosts[0].NotSelected[0].Name != "tzdata" {
		t.Fatalf("web1 %+v", p.Hosts[0])
	}
	if u := p.Hosts[1].Updates; len(u) != 1 || u[0].ID != "a1b2-c3" || u[0].KB != "KB5050001" {
		t.Fatalf("win1 %+v", u)
	}
	if !reflect.DeepEqual(p.LeftOut, []LeftOut{{Name: "web2", Status: report.StatusUnreachable, Reason: "connect: connection refused"}}) {
		t.Fatalf("left out %+v", p.LeftOut)
	}
}

func TestWriteReadRoundTripIsPrivateAndAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(path, []byte("old plan"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Build(scanReport(), Selection{Include: []string{"openssl*"}, Exclude: []string{"KB1"}, IncludeOptional: true}, "/inv/hosts.yaml", "", t0)
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v, want 0600", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, p)
	}
	if sel := got.Selection.PatchSelection(); sel.SkipOptional || sel.Include[0] != "openssl*" {
		t.Fatalf("selection %+v", sel)
	}
	sel, rest := got.Hosts[0].Planned()
	if len(sel) != 1 || sel[0].Available != "3.0.2" || len(rest) != 1 || rest[0].Name != "tzdata" {
		t.Fatalf("planned %+v rest %+v", sel, rest)
	}
}

func TestWriteIntoAMissingDirectoryFails(t *testing.T) {
	err := Build(scanReport(), Selection{}, "", "", t0).Write(filepath.Join(t.TempDir(), "no", "plan.json"))
	if err == nil || !strings.Contains(err.Error(), "save plan") {
		t.Fatalf("got %v", err)
	}
}

func TestReadRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.json"), "no such file"},
		{"corrupt", write("corrupt.json", `{"format": 1, "hosts": [`), "not a plan file"},
		{"newer format", write("future.json", `{"format": 2, "created_at": "2026-12-01T02:00:00Z", "hosts": [], "new_field": true}`), "format 2"},
		{"no format", write("noformat.json", `{"created_at": "2026-12-01T02:00:00Z", "hosts": []}`), "no format version"},
		{"unknown field", write("unknown.json", `{"format": 1, "created_at": "2026-12-01T02:00:00Z", "hosts": [], "extra": 1}`), "unknown field"},
		{"duplicate host", write("dup.json", `{"format": 1, "created_at": "2026-12-01T02:00:00Z", "hosts": [{"name":"a","updates":[]},{"name":"a","updates":[]}]}`), "listed twice"},
		{"no target", write("notarget.json", `{"format": 1, "created_at": "2026-12-01T02:00:00Z", "hosts": [{"name":"a","updates":[{"name":"openssl"}]}]}`), "neither a target"},
	}
	for _, tt := range tests {
		_, err := Read(tt.path)
		if !errors.Is(err, ErrBadPlan) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want ErrBadPlan mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestCheckAgeAndHosts(t *testing.T) {
	p := Build(scanReport(), Selection{}, "/inv/hosts.yaml", "", t0)
	inv := []string{"web1", "web2", "win1"}
	if err := p.Check(t0.Add(DefaultMaxAge-time.Minute), DefaultMaxAge, inv); err != nil {
		t.Fatalf("a plan inside its age: %v", err)
	}
	if err := p.Check(t0.Add(-time.Minute), DefaultMaxAge, inv); err != nil {
		t.Fatalf("a plan a minute ahead of the clock (skew): %v", err)
	}
	for _, tt := range []struct {
		name string
		now  time.Time
		inv  []string
		want string
	}{
		{"too old", t0.Add(DefaultMaxAge + time.Hour), inv, "more than --plan-max-age 7d"},
		{"future", t0.Add(-time.Hour), inv, "in the future"},
		{"unknown host", t0, []string{"web1", "web2"}, "hosts the inventory does not have: win1"},
	} {
		if err := p.Check(tt.now, DefaultMaxAge, tt.inv); !errors.Is(err, ErrBadPlan) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
}
