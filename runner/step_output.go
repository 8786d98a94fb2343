package runner

import (
	"sync"

	"github.com/patchrun/patchrun/internal/tail"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// stepCapture remembers, for the step in progress, the remote commands that
// may explain it: the first one, the first that failed, the last one. Only
// their bounded tails are kept, never whole output.
//
// Concurrency: the mutex lets the transport decorator record from a
// backend's helper goroutine while the host's owner begins and ends steps.
type stepCapture struct {
	mu      sync.Mutex
	install bool // commands stay quiet in the log; the step's event shows the output
	first   *capturedCmd
	failed  *capturedCmd
	last    *capturedCmd
}

// capturedCmd is one command's bounded record.
// Concurrency: written once by record, then only read, under stepCapture.mu.
type capturedCmd struct {
	out   report.StepOutput // Step is filled in when the step ends
	shown bool              // its tail already went out in the command's own event
}

// begin starts a new step's capture.
func (c *stepCapture) begin(install bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.install, c.first, c.failed, c.last = install, nil, nil, nil
}

// record keeps a command's tail and returns the tail its log event should
// carry: only for a command that failed or lost its exit status, and never
// inside an install step (the step's own event carries the round's output).
func (c *stepCapture) record(line string, res transport.Result, err error) string {
	cc := &capturedCmd{out: report.StepOutput{Command: line, ExitCode: res.ExitCode}}
	if err != nil {
		cc.out.ExitCode = -1
	}
	cc.out.Output, cc.out.Truncated = tail.Output(res.Stdout, res.Stderr, tail.MaxLines, tail.MaxBytes)
	cc.out.Truncated = cc.out.Truncated || res.Truncated
	bad := err != nil || res.ExitCode != 0

	c.mu.Lock()
	defer c.mu.Unlock()
	cc.shown = bad && !c.install && cc.out.Output != ""
	if c.first == nil {
		c.first = cc
	}
	if bad && c.failed == nil {
		c.failed = cc
	}
	c.last = cc
	if cc.shown {
		return cc.out.Output
	}
	return ""
}

// failure is the command that best explains a failed step: the first that
// failed (later ones are often checks that exit non-zero as data, like
// `dnf check-update` exiting 100), else the last one (its output did not
// parse). shown says its tail is already in the log.
func (c *stepCapture) failure() (report.StepOutput, bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cc := c.failed
	if cc == nil {
		cc = c.last
	}
	if cc == nil {
		return report.StepOutput{}, false, false
	}
	return cc.out, cc.shown, true
}

// installOutput is an install round's record: the command that failed it,
// else its first command (the install itself), with the backend's excerpt
// as the tail when it gave one — the backend knows which output matters
// (Windows Update polls a status script many times; its excerpt is the
// per-update result).
func (c *stepCapture) installOutput(failed bool, backendOutput string) (report.StepOutput, bool) {
	c.mu.Lock()
	cc := c.first
	if failed && c.failed != nil {
		cc = c.failed
	}
	c.mu.Unlock()
	out := report.StepOutput{ExitCode: -1}
	if cc != nil {
		out = cc.out
	}
	if backendOutput != "" {
		out.Output, out.Truncated = tail.Text(backendOutput, tail.MaxLines, tail.MaxBytes)
	}
	return out, cc != nil || out.Output != ""
}

// keepOutput adds a step's output to the host's result, dropping the oldest
// past report.MaxStepOutputs.
func (h *hostRun) keepOutput(o report.StepOutput) {
	if len(h.res.Output) >= report.MaxStepOutputs {
		h.res.Output = append(h.res.Output[:0], h.res.Output[len(h.res.Output)-report.MaxStepOutputs+1:]...)
	}
	h.res.Output = append(h.res.Output, o)
}
