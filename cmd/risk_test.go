package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
)

const (
	testOSV  = "../advisory/testdata/osv"
	testKEV  = "../advisory/testdata/kev.json"
	testEPSS = "../advisory/testdata/epss.csv"
)

// scan --kev --advisories on the simulated fleet (Debian, Rocky, Leap,
// Ubuntu): the updates that fix a CVE carry it, the kernel updates fixing
// a known-exploited CVE are flagged with its due date, and Debian's
// openssh, vulnerable with no update, is listed.
func TestScanWithAdvisoriesShowsCVEsAndKnownExploited(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 4})
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "json", "--advisories", testOSV, "--kev", testKEV, "--epss", testEPSS)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	type want struct {
		host, update string
		cve          string
		exploited    bool
	}
	for _, w := range []want{
		{"debian-001", "libssl3", "CVE-2025-9231", false},
		{"debian-001", "linux-image-amd64", "CVE-2025-38352", true},
		{"debian-001", "libcurl4", "CVE-2025-9086", false},
		{"ubuntu-001", "libssl3t64", "CVE-2025-9230", false},
		{"ubuntu-001", "linux-image-generic", "CVE-2025-38352", true},
		{"rocky-001", "kernel-core", "CVE-2025-38352", true},
		{"rocky-001", "openssl-libs", "CVE-2025-9230", false},
		{"leap-001", "libopenssl3", "CVE-2024-9143", false},
	} {
		h := hostByName(t, rep, w.host)
		var u *report.Update
		for i := range h.Updates {
			if h.Updates[i].Name == w.update {
				u = &h.Updates[i]
			}
		}
		if u == nil {
			t.Errorf("%s: no update %s", w.host, w.update)
			continue
		}
		if !slices.Contains(u.CVEs, w.cve) || u.KnownExploited != w.exploited {
			t.Errorf("%s %s: cves %v known_exploited %v; want %s, %v", w.host, w.update, u.CVEs, u.KnownExploited, w.cve, w.exploited)
		}
		if w.exploited && u.KEVDue != "2025-09-25" {
			t.Errorf("%s %s: kev_due %q", w.host, w.update, u.KEVDue)
		}
	}
	deb := hostByName(t, rep, "debian-001")
	if len(deb.Vulnerable) != 1 || deb.Vulnerable[0].Name != "openssh-server" || deb.Vulnerable[0].Source != "openssh" {
		t.Errorf("debian-001 vulnerable = %+v, want openssh-server (source openssh)", deb.Vulnerable)
	}
	for _, u := range deb.Updates {
		if u.Name == "base-files" && (len(u.CVEs) > 0 || u.KnownExploited) {
			t.Errorf("base-files got risk data: %+v", u)
		}
	}
}

// A bad advisory, KEV or EPSS file stops the run before any host is
// contacted, naming the flag and the problem.
func TestBadRiskFilesExitOne(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	broken := filepath.Join(dir, "broken.json")
	notKEV := filepath.Join(dir, "kev.json")
	for p, body := range map[string]string{inv: "hosts:\n  - name: web1\n", broken: "{", notKEV: `{"title": "x"}`} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "-i", inv, "--advisories", broken}, "--advisories " + broken + ": " + broken + ": not OSV JSON"},
		{[]string{"patch", "-i", inv, "--advisories", filepath.Join(dir, "missing")}, "--advisories"},
		{[]string{"scan", "-i", inv, "--kev", notKEV}, `--kev ` + notKEV + `: ` + notKEV + `: not the known-exploited JSON feed: no "vulnerabilities" list`},
		{[]string{"patch", "-i", inv, "--epss", testKEV}, "--epss " + testKEV},
		{[]string{"demo", "--kev", notKEV}, "--kev " + notKEV},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
