package runner

import (
	"errors"
	"fmt"
	"time"

	"github.com/patchrun/patchrun/report"
)

// settings is a validated Plan with every default filled in. It is built once
// by Run and never changed, so every goroutine may read it.
type settings struct {
	Plan
	installTimeout time.Duration
	maxRounds      int
	execMaxOutput  int
}

// resolve checks everything that would make the whole run meaningless and
// fills in defaults. Its errors are run-fatal: no host has been contacted.
func resolve(plan Plan, deps Deps) (settings, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch plan.Command {
	case report.CmdScan, report.CmdPatch, report.CmdReboot, report.CmdExec:
	default:
		bad("unknown command %q", plan.Command)
	}
	if len(plan.Hosts) == 0 {
		bad("no hosts")
	}
	seen := make(map[string]bool, len(plan.Hosts))
	for _, h := range plan.Hosts {
		if h.Name == "" {
			bad("a host has no name")
		} else if seen[h.Name] {
			bad("host %q listed twice", h.Name)
		}
		seen[h.Name] = true
	}
	if plan.Forks < 1 {
		bad("forks %d: must be at least 1", plan.Forks)
	}
	if deps.Dialer == nil {
		bad("no dialer")
	}
	if deps.Detect == nil && plan.Command != report.CmdExec {
		bad("no backend detector")
	}
	if err := plan.Selection.Validate(); err != nil {
		bad("selection: %w", err)
	}
	if plan.Command == report.CmdExec {
		if plan.ExecCommand == "" {
			bad("exec: no command")
		}
		if plan.DryRun {
			bad("exec: dry-run is not supported (the command would not be run at all)")
		}
	}
	switch plan.Reboot {
	case "":
		plan.Reboot = RebootIfRequired
	case RebootIfRequired, RebootAlways, RebootNever:
	default:
		bad("reboot policy %q: want if-required, always or never", plan.Reboot)
	}
	if plan.Batch.N < 0 || (plan.Batch.Percent && plan.Batch.N > 100) {
		bad("batch %d: out of range", plan.Batch.N)
	}
	for i, b := range plan.Ramp {
		if b.N < 1 || (b.Percent && b.N > 100) {
			bad("batch ramp step %d (%d): want 1 to N hosts or 1%% to 100%%", i+1, b.N)
		}
	}
	if plan.MaxFailures.Percent && plan.MaxFailures.N > 100 {
		bad("max failures %d%%: out of range", plan.MaxFailures.N)
	}
	if plan.MaxRounds < 0 {
		bad("max rounds %d: must not be negative", plan.MaxRounds)
	}
	if plan.ExecMaxOutput < 0 {
		bad("exec max output %d: must not be negative", plan.ExecMaxOutput)
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"connect timeout", plan.ConnectTimeout}, {"step timeout", plan.StepTimeout},
		{"reboot timeout", plan.RebootTimeout}, {"poll interval", plan.Timing.PollInterval},
		{"poll max", plan.Timing.PollMax}, {"probe timeout", plan.Timing.ProbeTimeout},
	} {
		if d.d < 0 {
			bad("%s %s: must not be negative", d.name, d.d)
		}
	}
	if len(errs) > 0 {
		return settings{}, fmt.Errorf("invalid plan: %w", errors.Join(errs...))
	}

	s := settings{Plan: plan}
	orDefault(&s.ConnectTimeout, DefaultConnectTimeout)
	orDefault(&s.StepTimeout, DefaultStepTimeout)
	orDefault(&s.RebootTimeout, DefaultRebootTimeout)
	orDefault(&s.Timing.PollInterval, DefaultPollInterval)
	orDefault(&s.Timing.PollMax, DefaultPollMax)
	orDefault(&s.Timing.ProbeTimeout, DefaultProbeTimeout)
	if s.Timing.PollMax < s.Timing.PollInterval {
		s.Timing.PollMax = s.Timing.PollInterval
	}
	s.installTimeout = InstallTimeoutFactor * s.StepTimeout
	s.maxRounds = plan.MaxRounds
	if s.maxRounds == 0 {
		s.maxRounds = DefaultMaxRounds
	}
	s.execMaxOutput = plan.ExecMaxOutput
	if s.execMaxOutput == 0 {
		s.execMaxOutput = DefaultExecMaxOutput
	}
	return s, nil
}

func orDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// batchSize resolves --batch for the given batch number (1-based) against
// the hosts that need a reboot: the ramp's step for that batch (its last
// step once the ramp is used up), or the one batch size.
func (s *settings) batchSize(candidates, batch int) int {
	b := s.Batch
	if n := len(s.Ramp); n > 0 {
		b = s.Ramp[min(batch, n)-1]
	}
	return max(1, b.Of(candidates))
}

// failureLimit resolves --max-failures against the whole run; ok is false
// when the budget is unlimited.
func (s *settings) failureLimit() (limit int, ok bool) {
	if s.MaxFailures.N < 0 {
		return 0, false
	}
	return s.MaxFailures.Of(len(s.Hosts)), true
}
