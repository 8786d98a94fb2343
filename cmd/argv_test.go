package cmd

import (
	"bytes"
	"context"
	"github.com/patchrun/patchrun/report"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/runner"
)

// parsedRun is what a command line asked for, caught at the point where
// hosts would be contacted.
type parsedRun struct {
	opts  commonOptions
	plan  runner.Plan
	hosts []inventory.Host
}

// parseCLI runs a command line through the real command tree (flags,
// defaults, validation, inventory, --limit) and returns the run it would
// start, or nil when it stopped before one.
func parseCLI(t *testing.T, env map[string]string, args ...string) (*parsedRun, cliResult) {
	t.Helper()
	var out, errOut bytes.Buffer
	a := newApp(Streams{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(k string) string { return env[k] }})
	var got *parsedRun
	a.fleetRun = func(o *commonOptions, plan runner.Plan, hosts []inventory.Host) error {
		got = &parsedRun{opts: *o, plan: plan, hosts: hosts}
		return nil
	}
	code := a.execute(context.Background(), args)
	return got, cliResult{code: code, stdout: out.String(), stderr: errOut.String()}
}

// The defaults a user gets by typing nothing, and the flags as typed.
func TestFlagsAsTyped(t *testing.T) {
	_, inv := startFleet(t, fleet.Config{Count: 4})
	run := func(args ...string) *parsedRun {
		t.Helper()
		got, r := parseCLI(t, nil, args...)
		if r.code != ExitOK || got == nil {
			t.Fatalf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
		return got
	}

	p := run("patch", "-i", inv)
	if o := p.opts; o.forks != 20 || o.output != "text" || o.connectTimeout != 10*time.Second || o.timeout != 30*time.Minute ||
		o.order != "inventory" || o.limit.pattern != "" || o.shard != "" || o.events != "" {
		t.Errorf("patch defaults: %+v", o)
	}
	if pl := p.plan; pl.Command != report.CmdPatch || pl.Batches.String() != "10%" ||
		!pl.MaxFailures.Unlimited || pl.RebootTimeout != 15*time.Minute || pl.Reboot != runner.RebootIfRequired ||
		pl.MaxRounds != 3 || !pl.Refresh || pl.DryRun || !pl.Selection.SkipOptional || pl.Selection.SecurityOnly {
		t.Errorf("patch plan defaults: %+v", pl)
	}
	if len(p.hosts) != 4 {
		t.Errorf("patch selected %d hosts, want all 4", len(p.hosts))
	}

	p = run("patch", "-i", inv, "--batch", "1,10%,25%", "--max-failures", "5%", "--reboot", "never", "--security-only",
		"--include", "openssl*,/^linux-/", "--dry-run", "--no-refresh", "-f", "3", "--order", "sorted", "--shard", "1/2")
	if pl := p.plan; pl.Batches.String() != "1,10%,25%" || pl.MaxFailures != (runner.Budget{N: 5, Percent: true}) ||
		pl.Reboot != runner.RebootNever || !pl.Selection.SecurityOnly || len(pl.Selection.Include) != 2 || !pl.DryRun || pl.Refresh {
		t.Errorf("patch plan from flags: %+v", pl)
	}
	if p.opts.forks != 3 || len(p.hosts) != 2 || p.hosts[0].Name > p.hosts[1].Name {
		t.Errorf("--forks 3 --order sorted --shard 1/2: forks %d, hosts %d", p.opts.forks, len(p.hosts))
	}

	if p = run("scan", "-i", inv); p.plan.Command != report.CmdScan || !p.plan.Refresh {
		t.Errorf("scan plan: %+v", p.plan)
	}
	if p = run("scan", "-i", inv, "--no-refresh", "-o", "json"); p.plan.Refresh || p.opts.output != "json" {
		t.Errorf("scan --no-refresh -o json: %+v %+v", p.plan, p.opts)
	}
	if p = run("reboot", "-i", inv, "--only-if-required", "--batch", "2"); p.plan.Reboot != runner.RebootAlways || !p.plan.OnlyIfRequired || p.plan.Batches.String() != "2" {
		t.Errorf("reboot plan: %+v", p.plan)
	}
	name := p.hosts[0].Name
	if p = run("exec", "-i", inv, "-l", name, "ls", "-l", "/tmp"); p.plan.ExecCommand != "ls -l /tmp" || len(p.hosts) != 1 || p.opts.limit.pattern != name {
		t.Errorf("exec: command %q on %d hosts, limit %q", p.plan.ExecCommand, len(p.hosts), p.opts.limit.pattern)
	}

	for _, bad := range [][]string{
		{"patch", "-i", inv, "--batch", "1,,2"},
		{"patch", "-i", inv, "--forks", "0"},
		{"scan", "-i", inv, "-o", "xml"},
		{"scan", "-i", inv, "--shard", "3/2"},
		{"reboot", "-i", inv, "--reboot-timeout", "0s"},
	} {
		if got, r := parseCLI(t, nil, bad...); got != nil || r.code != ExitCantStart {
			t.Errorf("%q: exit %d, run started %v", bad, r.code, got != nil)
		}
	}
}
