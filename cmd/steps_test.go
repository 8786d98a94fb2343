package cmd

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/report"
)

func TestStepFlagsRefusedAtStart(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "hosts.yaml")
	if err := os.WriteFile(inv, []byte("hosts:\n  - name: web1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--health-timeout", "-1s"}, "--health-timeout -1s: must be positive"},
		{[]string{"--hook-timeout", "-5m"}, "--hook-timeout -5m0s: must be positive"},
		{[]string{"--pre-local", "./missing.sh"}, `--pre-local "./missing.sh": no executable program ./missing.sh`},
		{[]string{"--post-local", "'/no/such dir/undrain' $PATCHRUN_HOST"}, "--post-local"},
	} {
		r := runCLI(t, nil, append([]string{"patch", "-i", inv}, tc.args...)...)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%q: exit %d, stderr %q; want exit 1 saying %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// writeHookScript writes an executable script that appends its host's
// environment to log.
func writeHookScript(t *testing.T, dir, log string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the hook script is a shell script")
	}
	script := filepath.Join(dir, "hook.sh")
	body := "#!/bin/sh\necho \"$1 $PATCHRUN_HOST $PATCHRUN_ADDRESS groups=$PATCHRUN_GROUPS status=$PATCHRUN_STATUS run=$PATCHRUN_RUN_ID\" >> " + log + "\necho hook output for $PATCHRUN_HOST\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	return script
}

func TestPatchRunsHealthChecksAndHooks(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 3})
	hosts := fl.Hosts()
	sick := hosts[0].Name
	fl.Host(sick).SetFaults(fleet.Faults{Unhealthy: true})
	dir := t.TempDir()
	log := filepath.Join(dir, "local.log")
	script := writeHookScript(t, dir, log)

	r := runCLI(t, nil, "patch", "-i", inv, "-o", "json", "--batch", "3", "--reboot-timeout", "20s",
		"--health-cmd", "health-check", "--health-timeout", "1s",
		"--pre-cmd", "hook drain", "--post-cmd", "hook undrain",
		"--pre-local", script+" pre", "--post-local", script+" post")
	if r.code != ExitHostsFailed {
		t.Fatalf("exit %d, want %d (a host failed its health check); stderr:\n%s", r.code, ExitHostsFailed, r.stderr)
	}
	rep := decodeReport(t, r)
	for _, h := range rep.Hosts {
		sim := fl.Host(h.Name)
		if h.Name == sick {
			if h.Status != report.StatusFailed || h.ErrorKind != "health" || h.Phase != report.PhaseHealth || !strings.Contains(h.Error, "never passed within 1s") {
				t.Errorf("%s: %s kind %q phase %q: %s; want failed by its health check", h.Name, h.Status, h.ErrorKind, h.Phase, h.Error)
			}
			if got := sim.Hooks(); !slices.Equal(got, []string{"drain"}) {
				t.Errorf("%s ran hooks %q; an unhealthy host is not undrained", h.Name, got)
			}
			continue
		}
		if h.Status != report.StatusOK || sim.HealthChecks() != 1 || !slices.Equal(sim.Hooks(), []string{"drain", "undrain"}) {
			t.Errorf("%s: %s (%s), %d health checks, hooks %q", h.Name, h.Status, h.Error, sim.HealthChecks(), sim.Hooks())
		}
		var steps []string
		for _, o := range h.Output {
			steps = append(steps, o.Step)
			if o.Step == "post_local" && !strings.Contains(o.Output, "hook output for "+h.Name) {
				t.Errorf("%s: post_local output %q", h.Name, o.Output)
			}
		}
		for _, want := range []string{"pre_local", "pre_cmd", "post_cmd", "post_local"} {
			if !slices.Contains(steps, want) {
				t.Errorf("%s: output entries %q lack %s", h.Name, steps, want)
			}
		}
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := string(data)
	for _, h := range hosts {
		status := "ok"
		if h.Name == sick {
			status = "failed"
		}
		for _, want := range []string{"pre " + h.Name + " 127.0.0.1 groups=", "post " + h.Name + " 127.0.0.1 groups="} {
			if !strings.Contains(lines, want) {
				t.Errorf("local hooks' log lacks %q:\n%s", want, lines)
			}
		}
		for _, line := range strings.Split(lines, "\n") {
			if strings.HasPrefix(line, "post "+h.Name+" ") && !strings.Contains(line, "status="+status) {
				t.Errorf("post_local for %s: %q, want status=%s", h.Name, line, status)
			}
		}
	}
}

func TestPatchDryRunSaysWhichStepsWouldRun(t *testing.T) {
	fl, inv := startFleet(t, fleet.Config{Count: 1})
	dir := t.TempDir()
	log := filepath.Join(dir, "local.log")
	script := writeHookScript(t, dir, log)
	r := runCLI(t, nil, "patch", "-i", inv, "--dry-run", "--health-cmd", "health-check",
		"--pre-cmd", "hook drain \x1b[31m", "--pre-local", script)
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"would run pre_local: " + script, "would run pre_cmd: hook drain \\x1b[31m", "would run health_cmd: health-check"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "\x1b") {
		t.Error("a hook's escape sequence reached the terminal unescaped")
	}
	sim := fl.Host(fl.Hosts()[0].Name)
	if len(sim.Hooks()) != 0 || sim.HealthChecks() != 0 {
		t.Errorf("dry run ran hooks %q and %d health checks", sim.Hooks(), sim.HealthChecks())
	}
	if _, err := os.Stat(log); err == nil {
		t.Error("dry run ran the local hook")
	}
}

// The demo rolls out with a canary and health checks by default; --faults
// includes a host that never passes its health check.
func TestDemoRollsACanaryWithHealthChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("demo runs a whole sweep")
	}
	r := runCLI(t, nil, "demo", "--hosts", "4", "--windows", "0", "--faults", "-o", "json", "--time-scale", "0.05")
	if r.code != ExitHostsFailed {
		t.Fatalf("demo --faults exit %d, want %d; stderr:\n%s", r.code, ExitHostsFailed, r.stderr)
	}
	rep := decodeReport(t, r)
	var canary []report.HostResult
	health := 0
	for _, h := range rep.Hosts {
		if h.RebootBatch == 1 {
			canary = append(canary, h)
		}
		if h.ErrorKind == "health" {
			health++
		}
	}
	if len(canary) != 1 || health != 1 {
		t.Fatalf("%d hosts in the first batch, %d failed health checks; want a canary of 1 and 1", len(canary), health)
	}
	for _, h := range rep.Hosts {
		if h.RebootBatch > 1 && h.StartedAt.Before(canary[0].FinishedAt) {
			t.Errorf("%s (batch %d) started at %s, before the canary %s ended at %s", h.Name, h.RebootBatch,
				h.StartedAt.Format(time.RFC3339Nano), canary[0].Name, canary[0].FinishedAt.Format(time.RFC3339Nano))
		}
	}
	if !strings.Contains(r.stderr, "never passes its health check") {
		t.Errorf("the demo's banner does not name the unhealthy host:\n%s", r.stderr)
	}
}
