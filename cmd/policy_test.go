package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/savedplan"
)

func TestRiskPolicyFlagsRefuseBadValues(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "hosts.yaml") // never read: refused first
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--min-severity", "severe"}, `--min-severity "severe": want critical, important, moderate or low`},
		{[]string{"--cve", "CVE-24-1"}, `--cve "CVE-24-1": want a CVE id like CVE-2024-3094`},
		{[]string{"--min-age", "soon"}, `"--min-age"`},
		{[]string{"--min-age", "-3d"}, `"--min-age"`},
		{[]string{"--known-exploited"}, "--known-exploited needs the known-exploited list: add --kev FILE"},
	}
	for _, tt := range tests {
		r := runCLI(t, nil, append([]string{"patch", "-i", inv}, tt.args...)...)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("patch %v: exit %d, stderr %q lacks %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// The Rocky and openSUSE hosts' own tools report severities, CVEs and
// dates: the policy flags pick from them, and what they leave alone says
// why.
func TestPatchBySeverityAndCVEInstallsOnlyThose(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Hosts: []fleet.HostSpec{
		{Name: "r1", Distro: fleet.Rocky9}, {Name: "s1", Distro: fleet.OpenSUSE155},
	}})
	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--reboot", "never", "--min-severity", "important")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	for _, name := range []string{"r1", "s1"} {
		h := hostByName(t, rep, name)
		var installed []string
		for _, u := range h.Updates {
			if u.Installed {
				installed = append(installed, u.Name)
				if u.Severity != "important" && u.Severity != "critical" {
					t.Errorf("%s: installed %s of severity %q", name, u.Name, u.Severity)
				}
			} else if !strings.Contains(u.HeldBack, "--min-severity important") {
				t.Errorf("%s: %s left alone without saying why: %q", name, u.Name, u.HeldBack)
			}
		}
		if len(installed) == 0 {
			t.Errorf("%s: nothing installed", name)
		}
	}
	if got := hostByName(t, rep, "r1"); !slices.ContainsFunc(got.Updates, func(u report.Update) bool { return u.Name == "kernel" && u.Installed }) {
		t.Errorf("r1: the Important kernel was not installed: %+v", got.Updates)
	}

	// --cve on the next run: only openssl's fix (both hosts' openssl
	// advisories are moderate, so the first run left them alone).
	r = runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--reboot", "never", "--cve", "cve-2025-9230,CVE-2024-6119")
	rep = decodeReport(t, r)
	for _, name := range []string{"r1", "s1"} {
		for _, u := range hostByName(t, rep, name).Updates {
			openssl := strings.Contains(u.Name, "openssl")
			if u.Installed != openssl {
				t.Errorf("%s: --cve installed=%v for %s (cves %v)", name, u.Installed, u.Name, u.CVEs)
			}
		}
	}
}

func TestMinAgeHoldsBackUndatedUpdatesAndIsSavedInPlans(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Hosts: []fleet.HostSpec{{Name: "s1", Distro: fleet.OpenSUSE155}}})
	path := filepath.Join(t.TempDir(), "plan.json")
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "json", "--save-plan", path, "--min-age", "30d", "--min-severity", "moderate", "--cve", "CVE-2024-6119")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	sp, err := savedplan.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := sp.Selection; s.MinAgeSeconds != 30*24*3600 || s.MinSeverity != "moderate" || !slices.Equal(s.CVEs, []string{"CVE-2024-6119"}) {
		t.Errorf("policy not saved in the plan: %+v", s)
	}
	var planned []string
	for _, u := range sp.Hosts[0].Updates {
		planned = append(planned, u.Name)
	}
	if !slices.Equal(planned, []string{"libopenssl3", "openssl-3"}) {
		t.Errorf("planned %v, want the openssl patch's two packages", planned)
	}
	// vim has no advisory, hence no date: --min-age holds it back and says so.
	r = runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--reboot", "never", "--min-age", "30d")
	for _, u := range hostByName(t, decodeReport(t, r), "s1").Updates {
		if u.Name == "vim" && (u.Installed || !strings.Contains(u.HeldBack, "no issue date")) {
			t.Errorf("vim: installed %v, held_back %q", u.Installed, u.HeldBack)
		}
		if u.Name == "openssl-3" && !u.Installed {
			t.Errorf("openssl-3 (issued 2024) not installed under --min-age 30d: %+v", u)
		}
	}
}

func TestScanTextShowsRiskSummaryCVEsAndRiskOrder(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Hosts: []fleet.HostSpec{
		{Name: "a-leap", Distro: fleet.OpenSUSE155}, {Name: "b-rocky", Distro: fleet.Rocky9},
	}})
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "text", "-v", "--order", "risk")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"risk: 2 hosts have 7 security updates (7 distinct CVEs)",
		"kernel-default  5.14.21-150500.55.83.1 → 5.14.21-150500.55.88.1  [security, important, needs reboot]",
		"      openSUSE-SLE-15.5-2024-4082, issued 2024-11-25\n      CVE-2024-36971 CVE-2024-41011\n",
		"      RLSA-2025:17797, issued 2025-10-14\n      CVE-2025-38352 CVE-2025-39682\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("scan -v output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The Rocky host has more security updates: --order risk lists it first.
	if strings.Index(r.stdout, "b-rocky") > strings.Index(r.stdout, "a-leap") {
		t.Errorf("--order risk did not put the riskier host first:\n%s", r.stdout)
	}
	// JSON on stdout stays a document; the risk line goes to stderr.
	r = runCLI(t, nil, "scan", "-i", inv, "-o", "json")
	decodeReport(t, r)
	if !strings.Contains(r.stderr, "patchrun: risk: 2 hosts have 7 security updates") {
		t.Errorf("stderr lacks the risk line:\n%s", r.stderr)
	}
}

// Hosts are contacted in inventory order, but the reboots that make the
// fixes take effect go riskiest first.
func TestOrderRiskRebootsTheRiskiestHostFirst(t *testing.T) {
	for order, first := range map[string]string{"inventory": "a-leap", "risk": "b-rocky"} {
		_, inv := startFleet(t, fleet.Config{Hosts: []fleet.HostSpec{
			{Name: "a-leap", Distro: fleet.OpenSUSE155}, {Name: "b-rocky", Distro: fleet.Rocky9},
		}, TimeScale: 0.001})
		r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--batch", "1", "--order", order)
		rep := decodeReport(t, r)
		if got := hostByName(t, rep, first).RebootBatch; got != 1 {
			t.Errorf("--order %s: %s in reboot batch %d, want 1", order, first, got)
		}
	}
}

// The hosts' own tools name the CVEs; the known-exploited list marks the
// ones under attack: --known-exploited installs only their fixes, and the
// scan's risk line counts them.
func TestKnownExploitedInstallsOnlyFixesOfListedCVEs(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Hosts: []fleet.HostSpec{
		{Name: "r1", Distro: fleet.Rocky9}, {Name: "s1", Distro: fleet.OpenSUSE155},
	}})
	kev := filepath.Join(t.TempDir(), "kev.json")
	if err := os.WriteFile(kev, []byte(`{"vulnerabilities":[
		{"cveID":"CVE-2025-38352","dueDate":"2025-09-25"},
		{"cveID":"CVE-2024-36971","dueDate":"2024-08-28"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "text", "--kev", kev)
	if !strings.Contains(r.stdout, "risk: 2 hosts have 3 updates fixing known-exploited CVEs;") ||
		!strings.Contains(r.stdout, "[security, important, KNOWN EXPLOITED, needs reboot]") {
		t.Errorf("scan --kev:\n%s", r.stdout)
	}
	r = runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--reboot", "never", "--kev", kev, "--known-exploited")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	want := map[string][]string{"r1": {"kernel", "kernel-core"}, "s1": {"kernel-default"}}
	for name, kernels := range want {
		var installed []string
		for _, u := range hostByName(t, rep, name).Updates {
			if u.Installed {
				installed = append(installed, u.Name)
				if !u.KnownExploited || u.KEVDue == "" {
					t.Errorf("%s: %s installed without its known-exploited flag: %+v", name, u.Name, u.Update)
				}
			} else if u.HeldBack != "fixes no known-exploited CVE (--known-exploited)" {
				t.Errorf("%s: %s held back for %q", name, u.Name, u.HeldBack)
			}
		}
		if !slices.Equal(installed, kernels) {
			t.Errorf("%s: installed %v, want %v", name, installed, kernels)
		}
	}
}
