package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
)

// cliResult is one patchrun invocation's outcome.
type cliResult struct {
	code   int
	stdout string
	stderr string
}

// runCLI runs patchrun in process, as a user would from a non-terminal.
func runCLI(t *testing.T, env map[string]string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, Streams{
		In: strings.NewReader(""), Out: &out, Err: &errOut,
		Getenv: func(k string) string { return env[k] },
	})
	return cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

func decodeReport(t *testing.T, r cliResult) report.Report {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return rep
}

// startFleet starts a simulated fleet with fast reboots and writes its
// inventory.
func startFleet(t *testing.T, cfg fleet.Config) (*fleet.Fleet, string) {
	t.Helper()
	// The developer's own ~/.ssh/config (a Host * ProxyJump, say) must not
	// reach the simulated hosts.
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	ctx, cancel := context.WithCancel(context.Background())
	fl, err := fleet.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		fl.Close()
		cancel()
	})
	inv, err := fl.WriteInventory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return fl, inv
}

func hostByName(t *testing.T, rep report.Report, name string) report.HostResult {
	t.Helper()
	for _, h := range rep.Hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("host %s missing from report", name)
	return report.HostResult{}
}

func TestScanReportsPendingUpdatesAndChangesNothing(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 4})
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	if rep.Command != report.CmdScan || len(rep.Hosts) != 4 {
		t.Fatalf("report: command %q with %d hosts", rep.Command, len(rep.Hosts))
	}
	for _, h := range rep.Hosts {
		sim := fl.Host(h.Name)
		if h.Status != report.StatusOK {
			t.Errorf("%s: status %s: %s", h.Name, h.Status, h.Error)
		}
		if len(h.Updates) == 0 || len(h.Updates) != len(sim.Pending()) {
			t.Errorf("%s: scan found %d updates, host has %d pending", h.Name, len(h.Updates), len(sim.Pending()))
		}
		var security, withCurrent int
		for _, u := range h.Updates {
			if u.Installed {
				t.Errorf("%s: scan reports %s installed", h.Name, u.Name)
			}
			// A package that an upgrade pulls in (apt's new kernel image)
			// has no current version; every update has a new one.
			if u.Available == "" {
				t.Errorf("%s: %s lacks its new version: %+v", h.Name, u.Name, u)
			}
			if u.Current != "" {
				withCurrent++
			}
			if u.Security {
				security++
			}
		}
		if security == 0 {
			t.Errorf("%s: no security update flagged", h.Name)
		}
		if withCurrent == 0 {
			t.Errorf("%s: no update reports the installed version", h.Name)
		}
		if sim.Reboots() != 0 {
			t.Errorf("%s: scan rebooted the host", h.Name)
		}
	}
	if rep.Summary.UpdatesInstalled != 0 || rep.Summary.Rebooted != 0 {
		t.Errorf("scan changed something: %+v", rep.Summary)
	}
}

func TestPatchInstallsRebootsInBatchesAndVerifies(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 6})
	before := map[string]string{}
	for _, h := range fl.Hosts() {
		before[h.Name] = fl.Host(h.Name).BootID()
	}
	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--batch", "2", "--reboot-timeout", "20s")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	perBatch := map[int]int{}
	for _, h := range rep.Hosts {
		sim := fl.Host(h.Name)
		if h.Status != report.StatusOK {
			t.Errorf("%s: %s: %s", h.Name, h.Status, h.Error)
			continue
		}
		if len(sim.Pending()) != 0 {
			t.Errorf("%s: still has %d pending updates after patch", h.Name, len(sim.Pending()))
		}
		for _, u := range h.Updates {
			if !u.Installed {
				t.Errorf("%s: %s not installed: %s", h.Name, u.Name, u.Error)
			}
		}
		if h.Rebooted {
			perBatch[h.RebootBatch]++
			if h.BootIDBefore == "" || h.BootIDBefore == h.BootIDAfter {
				t.Errorf("%s: boot id did not change: %q → %q", h.Name, h.BootIDBefore, h.BootIDAfter)
			}
			if h.BootIDBefore != before[h.Name] || h.BootIDAfter != sim.BootID() {
				t.Errorf("%s: reported boot ids %q → %q, host says %q → %q", h.Name, h.BootIDBefore, h.BootIDAfter, before[h.Name], sim.BootID())
			}
			if sim.Reboots() != 1 {
				t.Errorf("%s: rebooted %d times, want 1", h.Name, sim.Reboots())
			}
		} else if sim.Reboots() != 0 {
			t.Errorf("%s: host rebooted but report says not", h.Name)
		}
	}
	if rep.Summary.Rebooted == 0 {
		t.Fatal("no host was rebooted; the fleet's kernel updates should require it")
	}
	for batch, n := range perBatch {
		if n > 2 {
			t.Errorf("batch %d rebooted %d hosts, --batch 2 allows 2", batch, n)
		}
	}
}

func TestNeverReturningHostHaltsLaterBatches(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 4})
	first := fl.Hosts()[0].Name
	fl.Host(first).SetFaults(fleet.Faults{NeverReturn: true})
	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--batch", "1", "--max-failures", "0", "--reboot-timeout", "2s", "--reboot", "always")
	if r.code != ExitHalted {
		t.Fatalf("exit %d, want %d (halted); stderr:\n%s", r.code, ExitHalted, r.stderr)
	}
	rep := decodeReport(t, r)
	if !rep.Halted {
		t.Error("report does not say halted")
	}
	h := hostByName(t, rep, first)
	if h.Status != report.StatusFailed || h.ErrorKind != "reboot-timeout" {
		t.Errorf("%s: status %s kind %q error %q, want failed reboot-timeout", first, h.Status, h.ErrorKind, h.Error)
	}
	for _, other := range rep.Hosts[1:] {
		if other.Status != report.StatusSkipped {
			t.Errorf("%s: status %s, want skipped after the budget was spent", other.Name, other.Status)
		}
		if fl.Host(other.Name).Reboots() != 0 {
			t.Errorf("%s: rebooted although the run halted", other.Name)
		}
		installed := 0
		for _, u := range other.Updates {
			if u.Installed {
				installed++
			}
		}
		if installed == 0 {
			t.Errorf("%s: skipped host's installed updates were lost from the report", other.Name)
		}
	}
}

func TestExecReportsOutputAndExitCodes(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 3})
	r := runCLI(t, nil, "exec", "-i", inv, "-o", "json", "--", "hostname")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	for _, h := range rep.Hosts {
		if h.Exec == nil || h.Exec.ExitCode != 0 || strings.TrimSpace(h.Exec.Stdout) != h.Name {
			t.Errorf("%s: exec = %+v, want hostname output", h.Name, h.Exec)
		}
	}

	r = runCLI(t, nil, "exec", "-i", inv, "--", "false")
	if r.code != ExitHostsFailed {
		t.Fatalf("exec false: exit %d, want %d", r.code, ExitHostsFailed)
	}
	for _, h := range fl.Hosts() {
		if !strings.Contains(r.stdout, h.Name) {
			t.Errorf("text output lacks %s:\n%s", h.Name, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "exit code 1") {
		t.Errorf("text output should say why hosts failed:\n%s", r.stdout)
	}
}

func TestChangedHostKeyIsRefused(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 2})
	victim := fl.Hosts()[1].Name
	fl.Host(victim).SetFaults(fleet.Faults{ChangedHostKey: true})
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "json")
	if r.code != ExitHostsFailed {
		t.Fatalf("exit %d, want %d", r.code, ExitHostsFailed)
	}
	rep := decodeReport(t, r)
	h := hostByName(t, rep, victim)
	if h.Status != report.StatusFailed || h.ErrorKind != "host-key" {
		t.Errorf("%s: %s/%s %q, want failed host-key", victim, h.Status, h.ErrorKind, h.Error)
	}
	if !strings.Contains(h.Error, "known_hosts") {
		t.Errorf("host key error should name the known_hosts file: %q", h.Error)
	}
	if ok := hostByName(t, rep, fl.Hosts()[0].Name); ok.Status != report.StatusOK {
		t.Errorf("the other host failed too: %s %s", ok.Status, ok.Error)
	}
}

func TestBadInputExitsOneBeforeContactingHosts(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "hosts.yaml")
	if err := os.WriteFile(bad, []byte("hosts:\n  - name: web1\n    pasword: hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no inventory", []string{"scan"}, "no inventory"},
		{"unknown key", []string{"scan", "-i", bad}, "hosts.yaml:3"},
		{"bad batch", []string{"patch", "-i", bad, "--batch", "lots"}, "--batch"},
		{"bad reboot policy", []string{"patch", "-i", bad, "--reboot", "maybe"}, "--reboot"},
		{"bad output", []string{"scan", "-i", bad, "-o", "xml"}, "--output"},
		{"unknown flag", []string{"scan", "--frobnicate"}, "unknown flag"},
		{"exec without command", []string{"exec", "-i", bad}, "exec: no command given (hint:"},
	}
	for _, tt := range tests {
		r := runCLI(t, nil, tt.args...)
		if r.code != ExitCantStart {
			t.Errorf("%s: exit %d, want 1", tt.name, r.code)
		}
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: stderr %q lacks %q", tt.name, r.stderr, tt.want)
		}
		if r.stdout != "" {
			t.Errorf("%s: stdout should be empty on a failed start, got %q", tt.name, r.stdout)
		}
	}
}

func TestDemoPatchesEveryHost(t *testing.T) {
	if testing.Short() {
		t.Skip("demo runs a whole sweep")
	}
	start := time.Now()
	dir := t.TempDir()
	r := runCLI(t, nil, "demo", "--hosts", "6", "--windows", "2", "-o", "json", "--time-scale", "0.05", "--state-dir", dir)
	if r.code != ExitOK {
		t.Fatalf("demo exit %d, stderr:\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	// The demo's run is recorded in its state directory and ends with
	// an HTML report there, its path on stderr; hosts and report then
	// work on that history.
	_, after, ok := strings.Cut(r.stderr, "demo: report ")
	page := strings.TrimSpace(strings.SplitN(after, "\n", 2)[0])
	html, err := os.ReadFile(page)
	if !ok || err != nil || filepath.Dir(page) != dir || !strings.Contains(string(html), rep.RunID) || !strings.HasPrefix(strings.ToLower(string(html)), "<!doctype html>") {
		t.Fatalf("demo report %q (%v) is not an HTML page of run %s in %s:\n%s", page, err, rep.RunID, dir, r.stderr)
	}
	if h := runCLI(t, nil, "hosts", "--state-dir", dir, "-o", "csv"); h.code != ExitOK || strings.Count(h.stdout, "\n") != 1+8 {
		t.Fatalf("hosts after the demo: exit %d\n%s%s", h.code, h.stdout, h.stderr)
	}
	if len(rep.Hosts) != 8 || rep.Summary.OK != 8 {
		t.Fatalf("demo summary %+v", rep.Summary)
	}
	windows := 0
	managers := map[string]bool{}
	for _, h := range rep.Hosts {
		if h.Transport != "winrm" {
			managers[h.PackageManager] = true
			installed := 0
			for _, u := range h.Updates {
				if u.Installed {
					installed++
				}
			}
			// Every simulated Linux host has a kernel update pending.
			if installed == 0 || !h.Rebooted {
				t.Errorf("%s (%s): %d updates installed, rebooted=%v; want patched and rebooted", h.Name, h.PackageManager, installed, h.Rebooted)
			}
		}
		if h.Rebooted && h.BootIDBefore == h.BootIDAfter {
			t.Errorf("%s: rebooted without a new boot id", h.Name)
		}
		if h.RebootRequired && !h.Rebooted {
			t.Errorf("%s: still requires a reboot after the demo", h.Name)
		}
		if h.Transport == "winrm" {
			windows++
			// The simulated Windows hosts offer one update only after
			// the first reboot: patch must go a second round for it.
			if h.Rounds < 2 || !h.Rebooted {
				t.Errorf("%s: %d install rounds, rebooted=%v; want a second round after the reboot", h.Name, h.Rounds, h.Rebooted)
			}
			for _, u := range h.Updates {
				if u.KB == "" {
					t.Errorf("%s: update %q has no KB", h.Name, u.Name)
				}
			}
		}
	}
	if windows != 2 {
		t.Errorf("%d Windows hosts in the demo report, want 2", windows)
	}
	for _, m := range []string{"apt", "dnf", "zypper", "apk", "pacman"} {
		if !managers[m] {
			t.Errorf("no %s host in the demo (package managers seen: %v)", m, managers)
		}
	}
	t.Logf("demo of 6 Linux + 2 Windows hosts took %s", time.Since(start).Round(time.Millisecond))
}

func TestInventoryListsHostsWithoutRevealingSecrets(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	key := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(key, []byte("not parsed by inventory"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `defaults:
  user: root
  ssh_key: id_ed25519
  known_hosts: known_hosts
groups:
  web: [web1, web2]
hosts:
  - name: web1
    address: 10.0.0.5
  - name: web2
  - name: win1
    address: 10.0.0.9
    transport: winrm
    winrm_https: true
    user: Administrator
    password_env: WIN_ADMIN_PASSWORD
`
	if err := os.WriteFile(inv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"WIN_ADMIN_PASSWORD": "Sup3rSecret!"}
	r := runCLI(t, env, "inventory", "-i", inv, "-o", "json", "-l", "web,win1")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "Sup3rSecret!") {
		t.Fatal("inventory output reveals the password")
	}
	var got struct{ Hosts []inventoryHost }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Hosts) != 3 {
		t.Fatalf("got %d hosts, want 3: %+v", len(got.Hosts), got.Hosts)
	}
	win := got.Hosts[2]
	if win.Name != "win1" || win.Transport != "winrm" || win.Port != 5986 || !strings.Contains(win.Password, "WIN_ADMIN_PASSWORD") {
		t.Errorf("win1 resolved as %+v", win)
	}
	if got.Hosts[1].Address != "web2" || got.Hosts[0].Groups[0] != "web" {
		t.Errorf("defaults/groups not applied: %+v", got.Hosts[:2])
	}

	// An unset password_env is refused before anything is contacted.
	r = runCLI(t, nil, "inventory", "-i", inv)
	if r.code != ExitCantStart || !strings.Contains(r.stderr, "WIN_ADMIN_PASSWORD") {
		t.Errorf("unset password_env: exit %d, stderr %q", r.code, r.stderr)
	}
}

// An inventory that names only an alias reaches the host through the
// user's ~/.ssh/config (HostName, Port), as `ssh alias` would; a malformed
// config stops the run before any host is contacted; --no-ssh-config
// ignores it.
func TestSSHConfigResolvesAliases(t *testing.T) {
	fl, fleetInv := startFleet(t, fleet.Config{PerDistro: map[fleet.Distro]int{fleet.Debian12: 1}})
	host := fl.Hosts()[0]
	fleetDir := filepath.Dir(fleetInv)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(fleetDir, "alias.yaml")
	body := "defaults:\n  user: root\n  ssh_key: id_ed25519\n  known_hosts: known_hosts\nhosts:\n  - name: web-alias\n"
	if err := os.WriteFile(inv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(home, ".ssh", "config")
	writeCfg := func(s string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	writeCfg(fmt.Sprintf("Host web-alias\n  HostName %s\n  Port %d\n", host.Address, host.Port))
	r := runCLI(t, nil, "exec", "-i", inv, "-o", "json", "--", "hostname")
	if r.code != ExitOK {
		t.Fatalf("alias via ssh config: exit %d\n%s", r.code, r.stderr)
	}
	rep := decodeReport(t, r)
	if got := strings.TrimSpace(rep.Hosts[0].Exec.Stdout); got != host.Name {
		t.Errorf("web-alias ran on %q, want the simulated host %q", got, host.Name)
	}

	r = runCLI(t, nil, "exec", "-i", inv, "--no-ssh-config", "--connect-timeout", "2s", "--", "hostname")
	if r.code != ExitHostsFailed {
		t.Errorf("--no-ssh-config: exit %d, want 2 (web-alias does not resolve without the config)", r.code)
	}

	writeCfg("Host web-alias\n  HostName \"unterminated\n")
	r = runCLI(t, nil, "exec", "-i", inv, "--", "hostname")
	if r.code != ExitCantStart || !strings.Contains(r.stderr, cfg) {
		t.Errorf("malformed ssh config: exit %d, stderr %q; want exit 1 naming %s", r.code, r.stderr, cfg)
	}
}

// The remote command's own flags must never be read as patchrun's: a
// `-l` inside COMMAND retargeting the run would run it on the wrong hosts.
func TestExecCommandFlagsAreNotPatchrunFlags(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 3})
	target := fl.Hosts()[0].Name
	for _, args := range [][]string{
		{"exec", "-i", inv, "-o", "json", "-l", target, "ls", "-l", "rocky*"},
		{"exec", "-i", inv, "-o", "json", "-l", target, "--", "ls", "-l", "rocky*"},
	} {
		r := runCLI(t, nil, args...)
		rep := decodeReport(t, r)
		if len(rep.Hosts) != 1 || rep.Hosts[0].Name != target {
			var names []string
			for _, h := range rep.Hosts {
				names = append(names, h.Name)
			}
			t.Fatalf("%q ran on %v, want only %s", args, names, target)
		}
	}
}

// A CI matrix with more shards than hosts: the empty shard has nothing to
// do, which must not fail the job.
func TestEmptyShardIsNothingToDo(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 2})
	r := runCLI(t, nil, "scan", "-i", inv, "-o", "json", "--shard", "3/3")
	if r.code != ExitOK {
		t.Fatalf("empty shard: exit %d, stderr %q", r.code, r.stderr)
	}
	if rep := decodeReport(t, r); len(rep.Hosts) != 0 || rep.Summary.Hosts != 0 {
		t.Errorf("empty shard report: %+v", rep)
	}
	if !strings.Contains(r.stderr, "shard 3/3 of 2 hosts is empty") {
		t.Errorf("stderr should say the shard is empty: %q", r.stderr)
	}
}
