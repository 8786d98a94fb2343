package runner

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

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

// FieldError is a Plan value that is not valid. Field is the Plan field's
// name ("MaxFailures"), so a caller can say which of its own inputs (a
// command-line flag) the value came from.
type FieldError struct {
	Field   string
	Value   string // as given, or "" when Problem says it
	Problem string // what would be right
}

func (e *FieldError) Error() string {
	return e.Describe(fieldWords(e.Field))
}

// Describe words the error under another name for its field (a flag).
func (e *FieldError) Describe(name string) string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", name, e.Problem)
	}
	return fmt.Sprintf("%s %s: %s", name, e.Value, e.Problem)
}

// fieldWords names a Plan field in errors.
func fieldWords(field string) string {
	switch field {
	case "ExecCommand":
		return "exec command"
	case "Reboot":
		return "reboot policy"
	case "Batches":
		return "batch"
	case "Timing.PollInterval", "Timing.PollMax", "Timing.ProbeTimeout":
		field = strings.TrimPrefix(field, "Timing.")
	case "Lock.TTL":
		return "lock TTL"
	case "Steps.HealthTimeout", "Steps.HealthInterval", "Steps.HookTimeout":
		field = strings.TrimPrefix(field, "Steps.")
	case "Lock.Wait", "Lock.Poll":
		field = strings.Replace(field, ".", "", 1)
	}
	// "MaxFailures" → "max failures"
	var b strings.Builder
	for i, r := range field {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Validate checks every value of the plan that would make the run
// meaningless; each problem is a *FieldError (joined). It does not look at
// Hosts, so a command line can be checked before the inventory is read;
// Run checks the hosts as well. Zero values are valid: they mean the
// Default* values.
func (plan Plan) Validate() error {
	var errs []error
	bad := func(field string, value any, problem string) {
		errs = append(errs, &FieldError{Field: field, Value: fmt.Sprint(value), Problem: problem})
	}

	switch plan.Command {
	case report.CmdScan, report.CmdPatch, report.CmdReboot, report.CmdExec, report.CmdFacts:
	default:
		bad("Command", strconv.Quote(string(plan.Command)), "want scan, patch, reboot, exec or facts")
	}
	if plan.Forks < 0 {
		bad("Forks", plan.Forks, "must be at least 1")
	}
	if err := plan.Selection.Validate(); err != nil {
		bad("Selection", "", err.Error())
	}
	if plan.Command == report.CmdExec {
		if plan.ExecCommand == "" {
			bad("ExecCommand", "", "exec needs a command")
		}
		if plan.DryRun {
			bad("DryRun", "", "exec does not support a dry run (the command would not be run at all)")
		}
	}
	switch plan.Reboot {
	case "", RebootIfRequired, RebootAlways, RebootNever:
	default:
		bad("Reboot", strconv.Quote(string(plan.Reboot)), "want if-required, always or never")
	}
	for i, b := range plan.Batches {
		value := b.String()
		if len(plan.Batches) > 1 {
			value = fmt.Sprintf("%s (step %d of %s)", b, i+1, plan.Batches)
		}
		switch {
		case b.Unlimited:
			bad("Batches", value, "a batch cannot be unlimited (hint: 100% reboots every host at once)")
		case b.N < 1 || (b.Percent && b.N > 100):
			bad("Batches", value, "want a count of 1 or more or a percentage from 1% to 100%")
		}
	}
	if mf := plan.MaxFailures; !mf.Unlimited && (mf.N < 0 || (mf.Percent && mf.N > 100)) {
		bad("MaxFailures", mf, "want a count of 0 or more, a percentage from 0% to 100%, or unlimited")
	}
	if mu := plan.MaxUnreachable; mu != nil && (mu.Unlimited || mu.N < 0 || (mu.Percent && mu.N > 100)) {
		bad("MaxUnreachable", *mu, "want a count of 0 or more or a percentage from 0% to 100% (nil for no limit)")
	}
	if plan.MaxRounds < 0 {
		bad("MaxRounds", plan.MaxRounds, "must be at least 1")
	}
	if plan.ExecMaxOutput < 0 {
		bad("ExecMaxOutput", plan.ExecMaxOutput, "must not be negative")
	}
	for _, d := range []struct {
		field string
		d     time.Duration
	}{
		{"ConnectTimeout", plan.ConnectTimeout}, {"StepTimeout", plan.StepTimeout},
		{"RebootTimeout", plan.RebootTimeout}, {"Timing.PollInterval", plan.Timing.PollInterval},
		{"Timing.PollMax", plan.Timing.PollMax}, {"Timing.ProbeTimeout", plan.Timing.ProbeTimeout},
		{"Steps.HealthTimeout", plan.Steps.HealthTimeout}, {"Steps.HealthInterval", plan.Steps.HealthInterval},
		{"Steps.HookTimeout", plan.Steps.HookTimeout},
	} {
		if d.d < 0 {
			bad(d.field, d.d, "must be positive")
		}
	}
	plan.Lock.validate(bad)
	return errors.Join(errs...)
}

// resolve checks the plan, its hosts and the deps, and fills in defaults.
// Its errors are run-fatal: no host has been contacted.
func resolve(plan Plan, deps Deps) (settings, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := plan.Validate(); err != nil {
		errs = append(errs, err)
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
	if deps.Dialer == nil {
		bad("no dialer")
	}
	if deps.Detect == nil && plan.Command != report.CmdExec {
		bad("no backend detector")
	}
	if len(errs) > 0 {
		return settings{}, fmt.Errorf("invalid plan: %w", errors.Join(errs...))
	}

	s := settings{Plan: plan}
	if s.Reboot == "" {
		s.Reboot = RebootIfRequired
	}
	if s.Forks == 0 {
		s.Forks = DefaultForks
	}
	if len(s.Batches) == 0 {
		s.Batches = DefaultBatches()
	}
	orDefault(&s.ConnectTimeout, DefaultConnectTimeout)
	orDefault(&s.StepTimeout, DefaultStepTimeout)
	orDefault(&s.RebootTimeout, DefaultRebootTimeout)
	orDefault(&s.Timing.PollInterval, DefaultPollInterval)
	orDefault(&s.Timing.PollMax, DefaultPollMax)
	orDefault(&s.Timing.ProbeTimeout, DefaultProbeTimeout)
	orDefault(&s.Steps.HealthTimeout, DefaultHealthTimeout)
	orDefault(&s.Steps.HealthInterval, DefaultHealthInterval)
	orDefault(&s.Steps.HookTimeout, DefaultHookTimeout)
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

// failureLimit resolves the failure budget against the whole run; ok is
// false when the budget is unlimited.
func (s *settings) failureLimit() (limit int, ok bool) {
	if s.MaxFailures.Unlimited {
		return 0, false
	}
	return s.MaxFailures.Of(len(s.Hosts)), true
}
