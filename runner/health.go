package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// settle is where a patched host that would end ok goes first: its health
// check, then its post hooks. It returns true when the host may end ok;
// false when it ended (failed by its health check, error_kind "health", or
// by a post hook, error_kind "hook"). A host the run did not change (no
// pre hooks, no install, no reboot) has nothing to settle.
func (h *hostRun) settle(ctx context.Context) bool {
	if h.r.cfg.Command != report.CmdPatch || !(h.changing || h.res.Rounds > 0 || h.reboots > 0) {
		return true
	}
	healthErr := h.healthCheck(ctx)
	if healthErr != nil && ctx.Err() != nil {
		h.fail(ctx, "health check", healthErr)
		return false
	}
	if healthErr != nil && h.failedStep != nil {
		// The last check's output, in its place before the post hooks'.
		out := *h.failedStep
		out.Step, out.Command = stepHealth, summarizeLine(h.healthCmd())
		h.keepOutput(out)
		h.failedStep = nil
	}
	hookErr := h.postHooks(ctx, healthErr)
	switch {
	case healthErr != nil:
		h.failStep(ctx, ErrorKindHealth, report.PhaseHealth, healthErr)
	case hookErr != nil:
		h.failStep(ctx, ErrorKindHook, report.PhaseHooks, hookErr)
	default:
		return true
	}
	return false
}

// healthCheck runs the host's health command until it exits 0, pausing
// Steps.HealthInterval between attempts, for at most Steps.HealthTimeout in
// all. Each attempt may take up to the step timeout (within that). A lost
// connection is dialled again at the next attempt. The error says how the
// last attempt failed; the host's failed step keeps its output.
func (h *hostRun) healthCheck(ctx context.Context) error {
	line := h.healthCmd()
	if line == "" {
		return nil
	}
	h.enter(report.PhaseHealth)
	st := &h.r.cfg.Steps
	hctx, cancel := context.WithTimeout(ctx, st.HealthTimeout)
	defer cancel()
	name := fmt.Sprintf("health check %q", summarizeLine(line))
	last := errors.New("no attempt finished")
	var lastOut *report.StepOutput // the failed step of the attempt last is about
	attempts := 0
	for first := true; first || sleepCtx(hctx, st.HealthInterval); first = false {
		attempts++
		unhealthy := false
		err := h.step(hctx, name, min(h.r.cfg.StepTimeout, st.HealthTimeout), func(c context.Context) error {
			t, err := h.transport(c)
			if err != nil {
				return err
			}
			res, err := h.remote(c, t, line)
			if err == nil && res.ExitCode != 0 {
				unhealthy = true
				err = fmt.Errorf("exit %d", res.ExitCode)
			}
			return err
		})
		switch {
		case err == nil:
			h.logf(nil, "healthy after %d checks", attempts)
			return nil
		case unhealthy:
			last, lastOut = err, h.failedStep
		case hctx.Err() != nil && attempts > 1:
			// Cut off by the health timeout: the previous attempt's
			// answer (and output) says more.
			h.failedStep = lastOut
		default:
			last, lastOut = err, h.failedStep
			if errors.Is(err, transport.ErrConnLost) {
				h.closeTransport()
			}
		}
		if hctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("health check %q never passed within %s (%d checks; last: %v)", line, st.HealthTimeout, attempts, last)
}
