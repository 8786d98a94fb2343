package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/patchrun/patchrun/internal/tail"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
	"github.com/patchrun/patchrun/transport/winrm"
)

// Hook names, as the report's output entries and error messages call them
// (the inventory keys and the flags without their dashes).
const (
	hookPreLocal  = "pre_local"
	hookPreCmd    = "pre_cmd"
	hookPostCmd   = "post_cmd"
	hookPostLocal = "post_local"
	stepHealth    = "health_cmd"
)

// ErrorKindHook and ErrorKindHealth classify a host failed by a hook or by
// its health check (report.HostResult.ErrorKind).
const (
	ErrorKindHook   = "hook"
	ErrorKindHealth = "health"
)

// LocalRunner runs a command line on the workstation with env added to the
// environment. Like transport.Transport.Run, a nil error means it ran to its
// end and Result.ExitCode is real.
type LocalRunner func(ctx context.Context, line string, env []string) (transport.Result, error)

// RunLocalShell runs line through the workstation's shell (/bin/sh -c, or
// cmd /C on Windows), keeping at most transport.DefaultMaxOutput of each
// stream. A command still running when ctx ends is killed.
func RunLocalShell(ctx context.Context, line string, env []string) (transport.Result, error) {
	c := exec.CommandContext(ctx, "/bin/sh", "-c", line)
	if runtime.GOOS == "windows" {
		c = exec.CommandContext(ctx, "cmd", "/C", line)
	}
	c.Env = append(os.Environ(), env...)
	var stdout, stderr transport.CapBuffer
	c.Stdout, c.Stderr = &stdout, &stderr
	// A child left in the background must not keep the hook "running"
	// through the pipes it inherited.
	c.WaitDelay = time.Second
	start := time.Now()
	err := c.Run()
	res := transport.Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(),
		Truncated: stdout.Truncated() || stderr.Truncated(), Duration: time.Since(start)}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.Exited() && ctx.Err() == nil {
		res.ExitCode = exit.ExitCode()
		return res, nil
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (killed)", ctx.Err())
	}
	return res, err
}

// hook is one hook about to run for a host.
type hook struct {
	name  string // hookPreCmd, …
	line  string
	local bool
}

// preHookList and postHookList are the host's hooks, in the order they
// run: the workstation's around the host's own.
func (h *hostRun) preHookList() []hook {
	st := &h.r.cfg.Steps
	return nonEmpty(hook{hookPreLocal, st.PreLocal, true}, hook{hookPreCmd, or(st.PreCmd, h.host.PreCmd), false})
}

func (h *hostRun) postHookList() []hook {
	st := &h.r.cfg.Steps
	return nonEmpty(hook{hookPostCmd, or(st.PostCmd, h.host.PostCmd), false}, hook{hookPostLocal, st.PostLocal, true})
}

func (h *hostRun) healthCmd() string { return or(h.r.cfg.Steps.HealthCmd, h.host.HealthCmd) }

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func nonEmpty(hooks ...hook) []hook {
	var out []hook
	for _, k := range hooks {
		if strings.TrimSpace(k.line) != "" {
			out = append(out, k)
		}
	}
	return out
}

// preHooks runs the host's pre hooks before its first install (patch
// only). It returns false when the host ended: a pre hook failed, and
// nothing was changed on the host.
func (h *hostRun) preHooks(ctx context.Context) bool {
	h.changing = true
	hooks := h.preHookList()
	if h.r.cfg.Command != report.CmdPatch || len(hooks) == 0 {
		return true
	}
	if !h.checkpoint(ctx, report.PhaseHooks) {
		return false
	}
	for _, k := range hooks {
		if err := h.runHook(ctx, k, ""); err != nil {
			h.failStep(ctx, ErrorKindHook, report.PhaseHooks, fmt.Errorf("%s: %w; nothing was changed on the host", k.name, err))
			return false
		}
	}
	return true
}

// postHooks runs the host's post hooks after its health check passed. The
// remote post_cmd runs only on a healthy host; the local post_local runs
// whenever the pre hooks ran, with PATCHRUN_STATUS saying how the host is
// doing (ok, or failed by its health check or post_cmd). It returns the
// first hook's error.
func (h *hostRun) postHooks(ctx context.Context, healthy error) error {
	status := report.StatusOK
	first := healthy
	if first != nil {
		status = report.StatusFailed
	}
	for _, k := range h.postHookList() {
		if first != nil && !k.local {
			continue
		}
		if err := h.runHook(ctx, k, status); err != nil && first == nil {
			first = fmt.Errorf("%s: %w; the host was patched and healthy before it", k.name, err)
			status = report.StatusFailed
		}
	}
	if first == healthy {
		return nil
	}
	return first
}

// failStep ends the host failed by one of its rollout steps (kind, in
// phase), or interrupted if the run was.
func (h *hostRun) failStep(ctx context.Context, kind string, phase report.Phase, err error) {
	if ctx.Err() != nil {
		h.fail(ctx, "", err)
		return
	}
	h.res.Phase = phase
	h.end(report.StatusFailed, err.Error(), kind, err)
}

// runHook runs one hook under the hook timeout, keeps its output in the
// host's result and logs it. A hook that exits non-zero, or whose outcome
// is unknown, is an error.
func (h *hostRun) runHook(ctx context.Context, k hook, status report.Status) error {
	h.enter(report.PhaseHooks)
	name := fmt.Sprintf("%s %q", k.name, summarizeLine(k.line))
	var res transport.Result
	var err error
	if k.local {
		took, e := h.timedStep(ctx, h.r.cfg.Steps.HookTimeout, func(c context.Context) error {
			res, err = h.r.localRunner()(c, k.line, h.hookEnv(status))
			return err
		})
		err = e
		h.keepHookOutput(k, res, err)
		h.logOutput(err, h.res.Output[len(h.res.Output)-1].Output, "%s on the workstation (%s)", name, took)
	} else {
		none := ""
		err = h.installStep(ctx, name, h.r.cfg.Steps.HookTimeout, &none, func(c context.Context) error {
			t, err := h.transport(c)
			if err == nil {
				res, err = h.remote(c, t, k.line)
			}
			return err
		})
		if n := len(h.res.Output); n > 0 && h.res.Output[n-1].Step == name {
			h.res.Output[n-1].Step, h.res.Output[n-1].Command = k.name, summarizeLine(k.line)
		}
	}
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("%q exited %d", k.line, res.ExitCode)
	}
	return err
}

// keepHookOutput adds a local hook's output to the host's result.
func (h *hostRun) keepHookOutput(k hook, res transport.Result, err error) {
	out := report.StepOutput{Step: k.name, Command: summarizeLine(k.line), ExitCode: res.ExitCode}
	if err != nil {
		out.ExitCode = -1
	}
	out.Output, out.Truncated = tail.Output(res.Stdout, res.Stderr, tail.MaxLines, tail.MaxBytes)
	out.Truncated = out.Truncated || res.Truncated
	h.keepOutput(out)
}

// hookEnv is what a local hook learns about its host.
func (h *hostRun) hookEnv(status report.Status) []string {
	env := []string{
		"PATCHRUN_HOST=" + h.host.Name,
		"PATCHRUN_ADDRESS=" + h.host.Address,
		"PATCHRUN_GROUPS=" + strings.Join(h.host.Groups, ","),
		"PATCHRUN_RUN_ID=" + h.r.cfg.RunID,
	}
	if status != "" {
		env = append(env, "PATCHRUN_STATUS="+string(status))
	}
	return env
}

func (r *run) localRunner() LocalRunner {
	if r.deps.RunLocal != nil {
		return r.deps.RunLocal
	}
	return RunLocalShell
}

// transport is the host's open connection, dialled again if it has none.
func (h *hostRun) transport(ctx context.Context) (transport.Transport, error) {
	if h.t != nil {
		return h.t, nil
	}
	t, err := h.dial(ctx, h.connectTimeout())
	if err != nil {
		return nil, fmt.Errorf("reconnect: %w", err)
	}
	h.t = t
	return t, nil
}

// remote runs a user's command on the host: through the login shell over
// SSH, as PowerShell over WinRM (like ready_command: what a Windows
// administrator writes a service check in).
func (h *hostRun) remote(ctx context.Context, t transport.Transport, line string) (transport.Result, error) {
	if h.host.Transport == inventory.TransportWinRM {
		return winrm.RunPowerShell(ctx, t, line)
	}
	return t.Run(ctx, transport.Command{Line: line})
}

// wouldRun lists, for --dry-run, the steps the host would run around its
// change, in order.
func (h *hostRun) wouldRun() []string {
	var out []string
	add := func(k hook) { out = append(out, k.name+": "+k.line) }
	for _, k := range h.preHookList() {
		add(k)
	}
	if line := h.healthCmd(); line != "" {
		add(hook{name: stepHealth, line: line})
	}
	for _, k := range h.postHookList() {
		add(k)
	}
	return out
}
