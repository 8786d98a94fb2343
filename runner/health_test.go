package runner

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// stepsFleet is a fleet whose hosts answer the rollout steps' commands:
// each command a host runs and each local hook goes into trace as
// "host: line" (the install as "host: install"); health checks exit 1
// until a host's healthyAfter-th check, and lines in failing exit 1.
type stepsFleet struct {
	*fakeFleet
	trace        []string // guarded by fakeFleet.mu
	healthyAfter map[string]int
	checks       map[string]int
	failing      map[string]bool
	localEnv     map[string][]string // the env of each host's last local hook
}

func newStepsFleet(t *testing.T, hosts ...*fakeHost) *stepsFleet {
	sf := &stepsFleet{fakeFleet: newFleet(t, hosts...), healthyAfter: map[string]int{}, checks: map[string]int{},
		failing: map[string]bool{}, localEnv: map[string][]string{}}
	for _, h := range hosts {
		h.installLines = []string{"install"}
		h.answer = func(line string) (transport.Result, bool) {
			if strings.HasPrefix(line, "[") { // the fake backend's own probes
				return transport.Result{}, false
			}
			sf.trace = append(sf.trace, h.name+": "+line)
			res := transport.Result{Stdout: []byte("ran " + line + "\n")}
			if line == "check" {
				sf.checks[h.name]++
				if sf.checks[h.name] < sf.healthyAfter[h.name] || sf.healthyAfter[h.name] < 0 {
					res.ExitCode, res.Stdout = 1, []byte("503 from the app\n")
				}
			}
			if sf.failing[line] {
				res.ExitCode, res.Stderr = 1, []byte(line+": refused\n")
			}
			return res, true
		}
	}
	return sf
}

func (sf *stepsFleet) deps() Deps {
	d := sf.fakeFleet.deps()
	d.RunLocal = func(ctx context.Context, line string, env []string) (transport.Result, error) {
		host := ""
		for _, e := range env {
			if v, ok := strings.CutPrefix(e, "PATCHRUN_HOST="); ok {
				host = v
			}
		}
		res := transport.Result{Stdout: []byte("local " + line + "\n")}
		sf.snapshot(func() {
			sf.trace = append(sf.trace, host+": local "+line)
			sf.localEnv[host] = env
			if sf.failing[line] {
				res.ExitCode = 2
			}
		})
		return res, nil
	}
	return d
}

func (sf *stepsFleet) run(t *testing.T, plan Plan) (report.Report, *recorder) {
	t.Helper()
	rec := newRecorder(t)
	deps := sf.deps()
	deps.Observer = rec
	rep, err := Run(context.Background(), plan, deps)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep, rec
}

func (sf *stepsFleet) traceOf(host string) []string {
	var out []string
	sf.snapshot(func() {
		for _, s := range sf.trace {
			if rest, ok := strings.CutPrefix(s, host+": "); ok {
				out = append(out, rest)
			}
		}
	})
	return out
}

func stepsPlan(sf *stepsFleet) Plan {
	p := fastPlan(report.CmdPatch, sf.fakeFleet)
	p.Steps = Steps{PreLocal: "snapshot", PreCmd: "drain", HealthCmd: "check", PostCmd: "undrain", PostLocal: "notify",
		HealthInterval: time.Millisecond}
	return p
}

func TestStepsRunAroundTheChangeInOrder(t *testing.T) {
	sf := newStepsFleet(t, &fakeHost{name: "web1", pending: []patch.Update{upd("openssl", true, true)}})
	sf.healthyAfter["web1"] = 3
	plan := stepsPlan(sf)
	rep, rec := sf.run(t, plan)

	h := byName(rep)["web1"]
	if h.Status != report.StatusOK || !h.Rebooted {
		t.Fatalf("web1 = %s (%s), rebooted %v; want ok after its reboot", h.Status, h.Error, h.Rebooted)
	}
	want := []string{"local snapshot", "drain", "install", "check", "check", "check", "undrain", "local notify"}
	if got := sf.traceOf("web1"); !slices.Equal(got, want) {
		t.Errorf("steps on web1:\n got %q\nwant %q", got, want)
	}
	// The health check comes after the verified reboot, the hooks around all.
	phases := rec.phases("web1")
	iv, ih := slices.Index(phases, report.PhaseVerifying), slices.Index(phases, report.PhaseHealth)
	if iv < 0 || ih < iv || phases[len(phases)-1] != report.PhaseHooks || slices.Index(phases, report.PhaseHooks) > slices.Index(phases, report.PhaseInstalling) {
		t.Errorf("phases = %v; want hook … installing … verifying, health, hook", phases)
	}
	var steps []string
	for _, o := range h.Output {
		steps = append(steps, o.Step+" "+o.Command)
	}
	for _, s := range []string{"pre_local snapshot", "pre_cmd drain", "post_cmd undrain", "post_local notify"} {
		if !slices.Contains(steps, s) {
			t.Errorf("output entries %q lack %q", steps, s)
		}
	}
	env := strings.Join(sf.localEnv["web1"], " ")
	for _, e := range []string{"PATCHRUN_HOST=web1", "PATCHRUN_ADDRESS=web1.example", "PATCHRUN_STATUS=ok", "PATCHRUN_GROUPS=", "PATCHRUN_RUN_ID="} {
		if !strings.Contains(env, e) {
			t.Errorf("post_local env %q lacks %s", env, e)
		}
	}
}

// A host with nothing to install and no reboot is not changed: no hook and
// no health check runs on it.
func TestStepsSkipAnUnchangedHost(t *testing.T) {
	sf := newStepsFleet(t, &fakeHost{name: "idle"})
	rep, _ := sf.run(t, stepsPlan(sf))
	if h := byName(rep)["idle"]; h.Status != report.StatusOK {
		t.Fatalf("idle = %s (%s)", h.Status, h.Error)
	}
	if got := sf.traceOf("idle"); len(got) != 0 {
		t.Errorf("steps on an unchanged host: %q", got)
	}
}

// Without a reboot the health check follows the install.
func TestHealthCheckAfterInstallWithoutReboot(t *testing.T) {
	sf := newStepsFleet(t, &fakeHost{name: "app", pending: []patch.Update{upd("curl", true, false)}})
	plan := stepsPlan(sf)
	plan.Steps.PreLocal, plan.Steps.PostLocal, plan.Steps.PreCmd, plan.Steps.PostCmd = "", "", "", ""
	rep, _ := sf.run(t, plan)
	if h := byName(rep)["app"]; h.Status != report.StatusOK || h.Rebooted {
		t.Fatalf("app = %s (%s), rebooted %v", h.Status, h.Error, h.Rebooted)
	}
	if got, want := sf.traceOf("app"), []string{"install", "check"}; !slices.Equal(got, want) {
		t.Errorf("steps = %q, want %q", got, want)
	}
}

func TestPreHookFailureChangesNothing(t *testing.T) {
	for _, tc := range []struct{ name, failing, want string }{
		{"remote", "drain", "pre_cmd"},
		{"local", "snapshot", "pre_local"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sf := newStepsFleet(t, &fakeHost{name: "db1", pending: []patch.Update{upd("openssl", true, true)}})
			sf.failing[tc.failing] = true
			rep, _ := sf.run(t, stepsPlan(sf))
			h := byName(rep)["db1"]
			if h.Status != report.StatusFailed || h.ErrorKind != ErrorKindHook || h.Phase != report.PhaseHooks {
				t.Fatalf("db1 = %s kind %q phase %q (%s); want failed, hook, in phase hook", h.Status, h.ErrorKind, h.Phase, h.Error)
			}
			if !strings.Contains(h.Error, tc.want) || !strings.Contains(h.Error, "nothing was changed") {
				t.Errorf("error %q should name %s and say nothing was changed", h.Error, tc.want)
			}
			if fh := sf.host("db1"); fh.installs != 0 || fh.reboots != 0 || h.Rebooted {
				t.Errorf("installs %d, reboots %d after a failed pre hook", fh.installs, fh.reboots)
			}
			if slices.Contains(sf.traceOf("db1"), "local notify") {
				t.Errorf("post hook ran after a failed pre hook: %q", sf.traceOf("db1"))
			}
		})
	}
}

func TestPostHookFailureFailsAfterTheFact(t *testing.T) {
	sf := newStepsFleet(t, &fakeHost{name: "web1", pending: []patch.Update{upd("curl", true, false)}})
	sf.failing["undrain"] = true
	rep, _ := sf.run(t, stepsPlan(sf))
	h := byName(rep)["web1"]
	if h.Status != report.StatusFailed || h.ErrorKind != ErrorKindHook {
		t.Fatalf("web1 = %s kind %q (%s); want failed, hook", h.Status, h.ErrorKind, h.Error)
	}
	if !strings.Contains(h.Error, "post_cmd") || !strings.Contains(h.Error, "patched and healthy before it") {
		t.Errorf("error %q should name post_cmd and say the host was patched and healthy", h.Error)
	}
	if len(h.Updates) != 1 || !h.Updates[0].Installed {
		t.Errorf("updates %+v: the install must still be reported", h.Updates)
	}
	if last := h.Output[len(h.Output)-2]; last.Step != "post_cmd" || last.ExitCode != 1 || !strings.Contains(last.Output, "undrain: refused") {
		t.Errorf("post_cmd output entry = %+v", last)
	}
	// The workstation still hears how the host ended.
	if env := strings.Join(sf.localEnv["web1"], " "); !strings.Contains(env, "PATCHRUN_STATUS=failed") {
		t.Errorf("post_local env %q, want PATCHRUN_STATUS=failed", env)
	}
}

// A host that never becomes healthy fails with error_kind health after the
// health timeout, having been checked every interval; it counts against the
// failure budget, so no later reboot batch starts.
func TestHealthNeverPassingFailsTheHostAndSpendsTheBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sf := newStepsFleet(t,
			&fakeHost{name: "canary", pending: []patch.Update{upd("kernel", true, true)}},
			&fakeHost{name: "web2", pending: []patch.Update{upd("kernel", true, true)}},
			&fakeHost{name: "web3", pending: []patch.Update{upd("kernel", true, true)}})
		sf.healthyAfter["canary"] = -1
		plan := realTimePlan(report.CmdPatch, sf.fakeFleet)
		plan.Steps = Steps{HealthCmd: "check", PostCmd: "undrain", PostLocal: "notify"}
		plan.MaxFailures = Budget{N: 0}
		start := time.Now()
		rep, _ := sf.run(t, plan)
		took := time.Since(start)

		h := byName(rep)["canary"]
		if h.Status != report.StatusFailed || h.ErrorKind != ErrorKindHealth || h.Phase != report.PhaseHealth {
			t.Fatalf("canary = %s kind %q phase %q (%s)", h.Status, h.ErrorKind, h.Phase, h.Error)
		}
		// 5 minutes, a check every 5 seconds: 60 or 61 checks.
		if n := sf.checks["canary"]; n < 59 || n > 62 {
			t.Errorf("%d health checks in 5m at 5s intervals", n)
		}
		if took < DefaultHealthTimeout {
			t.Errorf("gave up after %s, before the %s health timeout", took, DefaultHealthTimeout)
		}
		if !strings.Contains(h.Error, "never passed within 5m0s") || !strings.Contains(h.Error, "exit 1") {
			t.Errorf("error %q", h.Error)
		}
		if o := h.Output[len(h.Output)-2]; o.Step != "health_cmd" || o.Command != "check" || !strings.Contains(o.Output, "503 from the app") {
			t.Errorf("output entry %+v should be the failing check's, before post_local's", o)
		}
		if slices.Contains(sf.traceOf("canary"), "undrain") {
			t.Error("post_cmd ran on an unhealthy host")
		}
		if env := strings.Join(sf.localEnv["canary"], " "); !strings.Contains(env, "PATCHRUN_STATUS=failed") {
			t.Errorf("post_local env %q, want PATCHRUN_STATUS=failed", env)
		}
		if !rep.Halted {
			t.Error("a failed health check did not spend the failure budget")
		}
		for _, name := range []string{"web2", "web3"} {
			if o := byName(rep)[name]; o.Status != report.StatusSkipped || o.Rebooted {
				t.Errorf("%s = %s rebooted %v after the budget was spent", name, o.Status, o.Rebooted)
			}
		}
	})
}

// A connection lost during a health check is dialled again for the next.
func TestHealthCheckRecoversFromALostConnection(t *testing.T) {
	sf := newStepsFleet(t, &fakeHost{name: "web1", pending: []patch.Update{upd("curl", true, false)}})
	fh := sf.host("web1")
	inner := fh.answer
	fh.answer = func(line string) (transport.Result, bool) {
		if line == "check" && sf.checks["web1"] == 0 {
			sf.checks["web1"]++
			fh.gen++ // the connection dies under the first check
			return transport.Result{}, true
		}
		return inner(line)
	}
	plan := stepsPlan(sf)
	plan.Steps.PreCmd, plan.Steps.PostCmd, plan.Steps.PreLocal, plan.Steps.PostLocal = "", "", "", ""
	rep, _ := sf.run(t, plan)
	if h := byName(rep)["web1"]; h.Status != report.StatusOK {
		t.Fatalf("web1 = %s (%s); a lost connection during a health check should be redialled", h.Status, h.Error)
	}
	if sf.checks["web1"] != 2 {
		t.Errorf("%d checks, want the lost one and one more", sf.checks["web1"])
	}
}

func TestDryRunRunsNoStepButSaysWhichWould(t *testing.T) {
	sf := newStepsFleet(t, &fakeHost{name: "web1", pending: []patch.Update{upd("openssl", true, true)}}, &fakeHost{name: "idle"})
	plan := stepsPlan(sf)
	plan.DryRun = true
	rep, _ := sf.run(t, plan)
	for _, name := range []string{"web1", "idle"} {
		if got := sf.traceOf(name); len(got) != 0 {
			t.Errorf("dry run ran %q on %s", got, name)
		}
	}
	want := []string{"pre_local: snapshot", "pre_cmd: drain", "health_cmd: check", "post_cmd: undrain", "post_local: notify"}
	if got := byName(rep)["web1"].WouldRun; !slices.Equal(got, want) {
		t.Errorf("would_run = %q, want %q", got, want)
	}
	if got := byName(rep)["idle"].WouldRun; got != nil {
		t.Errorf("would_run on a host with nothing to do = %q", got)
	}
}

func TestStepsValidate(t *testing.T) {
	for _, tc := range []struct {
		steps Steps
		field string
	}{
		{Steps{HealthTimeout: -time.Second}, "Steps.HealthTimeout"},
		{Steps{HookTimeout: -time.Second}, "Steps.HookTimeout"},
		{Steps{HealthInterval: -time.Second}, "Steps.HealthInterval"},
	} {
		err := Plan{Command: report.CmdPatch, Steps: tc.steps}.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: error %v, want a FieldError for %s", tc.steps, err, tc.field)
		}
	}
}

func TestRunLocalShell(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh syntax")
	}
	res, err := RunLocalShell(context.Background(), `echo "$PATCHRUN_HOST"; echo oops >&2; exit 3`, []string{"PATCHRUN_HOST=web1"})
	if err != nil || res.ExitCode != 3 || string(res.Stdout) != "web1\n" || string(res.Stderr) != "oops\n" {
		t.Errorf("RunLocalShell = %+v, %v", res, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := RunLocalShell(ctx, "sleep 10", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a hook past its timeout: %v, want a deadline error", err)
	}
}

// With --rolling the canary's failed health check stops the rollout: with
// no failure allowed, no other host runs a hook or installs anything.
func TestRollingCanaryHealthFailureStopsTheRollout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hosts []*fakeHost
		for _, n := range []string{"canary", "web2", "web3", "web4", "web5"} {
			hosts = append(hosts, &fakeHost{name: n, pending: []patch.Update{upd("kernel", true, true)}})
		}
		sf := newStepsFleet(t, hosts...)
		sf.healthyAfter["canary"] = -1
		plan := realTimePlan(report.CmdPatch, sf.fakeFleet)
		plan.Rolling = true
		plan.Batches = Batches{{N: 1}, {N: 50, Percent: true}}
		plan.MaxFailures = Budget{N: 0}
		plan.Steps = Steps{PreCmd: "drain", HealthCmd: "check", PostCmd: "undrain", HealthTimeout: time.Minute}
		rep, rec := sf.run(t, plan)

		if h := byName(rep)["canary"]; h.Status != report.StatusFailed || h.ErrorKind != ErrorKindHealth || !h.Rebooted {
			t.Fatalf("canary = %s kind %q rebooted %v (%s)", h.Status, h.ErrorKind, h.Rebooted, h.Error)
		}
		if !rep.Halted || rep.HaltedBy != "failures" {
			t.Errorf("halted %v by %q; want halted by the failure budget", rep.Halted, rep.HaltedBy)
		}
		for _, name := range []string{"web2", "web3", "web4", "web5"} {
			if got := sf.traceOf(name); len(got) != 0 {
				t.Errorf("%s ran %q after the canary failed its health check", name, got)
			}
			if h := byName(rep)[name]; h.Status != report.StatusSkipped || len(h.Output) != 0 {
				t.Errorf("%s = %s (%s)", name, h.Status, h.Error)
			}
			if fh := sf.host(name); fh.installs != 0 {
				t.Errorf("%s installed after the canary failed", name)
			}
		}
		if i := rec.firstIndex(phaseOf(report.PhaseHealth, "canary")); i < 0 || rec.lastIndex(func(e Event) bool { return e.Kind == EventBatch }) > i {
			t.Error("a batch started after the canary's health check")
		}
	})
}

// A hook's output entry names its command like any step's: the first line,
// cut short.
func TestHookOutputNamesTheCommandsFirstLine(t *testing.T) {
	sf := newStepsFleet(t, &fakeHost{name: "web1", pending: []patch.Update{upd("curl", true, false)}})
	plan := stepsPlan(sf)
	plan.Steps.PreCmd = "drain\nlogger drained"
	plan.Steps.PostLocal = "notify " + strings.Repeat("x", 200)
	rep, _ := sf.run(t, plan)
	got := map[string]string{}
	for _, o := range byName(rep)["web1"].Output {
		got[o.Step] = o.Command
	}
	if got["pre_cmd"] != "drain …" || len(got["post_local"]) > maxLoggedLine+len(" …") || !strings.HasPrefix(got["post_local"], "notify x") {
		t.Errorf("output commands %q", got)
	}
}

// A check cut off by the health timeout says nothing: the host's error and
// output are the last check that answered.
func TestHealthTimeoutKeepsTheLastAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sf := newStepsFleet(t, &fakeHost{name: "web1", pending: []patch.Update{upd("curl", true, false)}})
		sf.healthyAfter["web1"] = -1
		var calls atomic.Int32
		sf.host("web1").hangOn = func(line string) bool { return line == "check" && calls.Add(1) >= 2 }
		plan := realTimePlan(report.CmdPatch, sf.fakeFleet)
		plan.Steps = Steps{HealthCmd: "check", HealthTimeout: time.Minute}
		rep, _ := sf.run(t, plan)
		h := byName(rep)["web1"]
		if h.Status != report.StatusFailed || h.ErrorKind != ErrorKindHealth || !strings.Contains(h.Error, "last: exit 1") {
			t.Fatalf("web1 = %s kind %q: %s; want failed by health, naming the answered check", h.Status, h.ErrorKind, h.Error)
		}
		if o := h.Output[len(h.Output)-1]; o.Step != "health_cmd" || o.ExitCode != 1 || !strings.Contains(o.Output, "503 from the app") {
			t.Errorf("last output entry %+v, want the check that answered", o)
		}
	})
}
