package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
	"github.com/patchrun/patchrun/savedplan"
)

// planFleet is one host per package manager; openssl is offered on each.
func planFleet(t *testing.T) (*fleet.Fleet, string) {
	return startFleet(t, fleet.Config{Hosts: []fleet.HostSpec{
		{Name: "d1", Distro: fleet.Debian12},
		{Name: "r1", Distro: fleet.Rocky9},
		{Name: "s1", Distro: fleet.OpenSUSE155},
	}})
}

// savePlanOf scans with --save-plan and returns the plan's path and the
// planned openssl of each host.
func savePlanOf(t *testing.T, inv string) (string, map[string]savedplan.Update) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "plan.json")
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "json", "--save-plan", path, "--include", "openssl*,libssl3,openssl-libs")
	if r.code != ExitOK {
		t.Fatalf("scan --save-plan: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "plan saved to "+path+": 3 hosts") {
		t.Errorf("scan did not say what it saved:\n%s", r.stderr)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plan file %v %v, want mode 0600", fi, err)
	}
	sp, err := savedplan.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !sp.Selection.SecurityOnly && len(sp.Selection.Include) != 3 {
		t.Errorf("selection not recorded: %+v", sp.Selection)
	}
	planned := map[string]savedplan.Update{}
	for _, h := range sp.Hosts {
		for _, u := range h.Updates {
			if u.Name == "openssl" || u.Name == "openssl-3" {
				planned[h.Name] = u
			}
		}
	}
	if len(planned) != 3 {
		t.Fatalf("openssl not planned on every host: %+v", sp.Hosts)
	}
	return path, planned
}

// publishNewer offers a newer openssl on every host, as an archive moving
// on between the scan and the patch.
func publishNewer(t *testing.T, fl *fleet.Fleet, rep report.Report, planned map[string]savedplan.Update) map[string]string {
	newer := map[string]string{}
	for name, u := range planned {
		var repo string
		for _, have := range hostByName(t, rep, name).Updates {
			if have.Name == u.Name {
				repo = have.Repo
			}
		}
		newer[name] = u.Target + ".1"
		fl.Host(name).AddUpdate(fleet.Update{Name: u.Name, Version: newer[name], Repo: repo, Security: true})
	}
	return newer
}

func TestPatchWithAPlanInstallsThePlannedVersionNotANewerOne(t *testing.T) {
	fl, inv := planFleet(t)
	path, planned := savePlanOf(t, inv)
	scan := decodeReport(t, runCLI(t, nil, "scan", "-i", inv, "-o", "json"))
	newer := publishNewer(t, fl, scan, planned)

	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--plan", path, "--reboot", "never")
	if r.code != ExitOK {
		t.Fatalf("patch --plan: exit %d\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	validateReport(t, reportSchema(t), "patch --plan", []byte(r.stdout))
	if !strings.Contains(r.stderr, "patchrun: plan drift on d1: 1 changed (openssl planned "+planned["d1"].Target) {
		t.Errorf("the drift is not on stderr:\n%s", r.stderr)
	}
	for name, u := range planned {
		if got := fl.Host(name).Installed(u.Name); got != u.Target {
			t.Errorf("%s: %s is at %q, want the planned %q (not the newer %q)", name, u.Name, got, u.Target, newer[name])
		}
		h := hostByName(t, rep, name)
		if h.PlanDrift == nil || len(h.PlanDrift.Changed) != 1 || h.PlanDrift.Changed[0].Available != newer[name] {
			t.Errorf("%s: drift %+v, want %s changed to %s", name, h.PlanDrift, u.Name, newer[name])
		}
		for _, up := range h.Updates {
			if up.Installed && up.Available != u.Target && (up.Name == u.Name) {
				t.Errorf("%s: report says %s %s installed", name, up.Name, up.Available)
			}
		}
		// Only planned packages were touched: every other update is still
		// pending at its scanned version.
		if n := len(fl.Host(name).Pending()); n < 2 {
			t.Errorf("%s: only %d updates left pending; the plan held only openssl's", name, n)
		}
	}
}

func TestStrictPlanFailsDriftedHostsAndInstallsNothing(t *testing.T) {
	fl, inv := planFleet(t)
	path, planned := savePlanOf(t, inv)
	scan := decodeReport(t, runCLI(t, nil, "scan", "-i", inv, "-o", "json"))
	publishNewer(t, fl, scan, planned)

	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--plan", path, "--strict-plan")
	if r.code != ExitHostsFailed {
		t.Fatalf("patch --plan --strict-plan: exit %d, want %d\n%s", r.code, ExitHostsFailed, r.stderr)
	}
	rep := decodeReport(t, r)
	validateReport(t, reportSchema(t), "patch --plan --strict-plan", []byte(r.stdout))
	for name, u := range planned {
		h := hostByName(t, rep, name)
		if h.Status != report.StatusFailed || h.ErrorKind != runner.ErrorKindPlanDrift {
			t.Errorf("%s: %s %s %q", name, h.Status, h.ErrorKind, h.Error)
		}
		if got := fl.Host(name).Installed(u.Name); got != u.Current {
			t.Errorf("%s: %s is at %q; --strict-plan must install nothing", name, u.Name, got)
		}
	}
}

func TestPlanIsRefusedBeforeAnyHostIsContacted(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.txt")
	if err := os.WriteFile(inv, []byte("web1\nweb2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name string, p savedplan.Plan) string {
		path := filepath.Join(dir, name)
		if err := p.Write(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	plan := func(created time.Time, hosts ...string) savedplan.Plan {
		p := savedplan.Plan{Format: savedplan.FormatVersion, CreatedAt: created, Inventory: inv}
		for _, h := range hosts {
			p.Hosts = append(p.Hosts, savedplan.Host{Name: h, Updates: []savedplan.Update{{Name: "openssl", Current: "1", Target: "2"}}})
		}
		return p
	}
	good := write("good.json", plan(time.Now(), "web1"))
	corrupt := filepath.Join(dir, "corrupt.json")
	if err := os.WriteFile(corrupt, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"too old", []string{"--plan", write("old.json", plan(time.Now().Add(-8*24*time.Hour), "web1"))}, "more than --plan-max-age 7d"},
		{"older than --plan-max-age", []string{"--plan", write("2h.json", plan(time.Now().Add(-2*time.Hour), "web1")), "--plan-max-age", "1h"}, "more than --plan-max-age 1h0m0s"},
		{"from the future", []string{"--plan", write("future.json", plan(time.Now().Add(time.Hour), "web1"))}, "in the future"},
		{"unknown host", []string{"--plan", write("other.json", plan(time.Now(), "web1", "db9"))}, "hosts the inventory does not have: db9"},
		{"corrupt", []string{"--plan", corrupt}, "not a plan file patchrun can read"},
		{"missing", []string{"--plan", filepath.Join(dir, "nope.json")}, "no such file"},
		{"with a selection flag", []string{"--plan", good, "--security-only"}, "--plan and --security-only"},
		{"strict without a plan", []string{"--strict-plan"}, "--strict-plan works only with --plan"},
		{"bad max age", []string{"--plan", good, "--plan-max-age", "soon"}, "want a positive duration"},
	}
	for _, tt := range tests {
		r := runCLI(t, nil, append([]string{"patch", "-i", inv}, tt.args...)...)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 mentioning %q", tt.name, r.code, r.stderr, tt.want)
		}
	}
	if r := runCLI(t, nil, "scan", "-i", inv, "--security-only"); r.code != ExitCantStart || !strings.Contains(r.stderr, "add --save-plan FILE") {
		t.Errorf("scan --security-only without --save-plan: exit %d %q", r.code, r.stderr)
	}
}
