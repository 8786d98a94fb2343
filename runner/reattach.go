package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// Installs that run detached on the host (the Linux backends run each
// package-manager transaction as a job that outlives the SSH session) make
// the real outcome of an install knowable after the link drops. The seam:
//
//   - Install returns a *patch.JobLostError naming the job still running.
//   - The runner dials the host again, within what is left of the install
//     step's timeout, and calls patch.Reattacher.ReattachInstall with the
//     same updates: the backend follows the same job to its end (it never
//     starts a second transaction) and returns what Install would have.
//   - If that is impossible (no new connection before the deadline), the
//     error still wraps transport.ErrConnLost, and the lost-install rescan
//     (recheckInstall) decides as before.
//
// The job's name is kept in hostRun.job while its result is unread, and
// journaled (Checkpoint.Job) as soon as the link to it is lost: a run
// resumed after the controller itself died can dial the host and re-attach
// to the same job the same way. (Had the controller died with the link
// still up, the job's name is not journaled; the job script then refuses a
// second transaction while the job runs and names it.)

// nameJobs lets a backend name its host-side jobs after the run.
func nameJobs(be patch.Backend, runID string) {
	if n, ok := be.(patch.JobNamer); ok {
		n.NameJobs(runID)
	}
}

// installDetached runs Install and, each time it ends with the link lost
// while its job still runs, reconnects and re-attaches to that job. A host
// resumed with its job's name (h.job) is re-attached to that job first; if
// the job is no longer on the host, no transaction of ours runs there and
// the install starts afresh (what went in meanwhile is no longer pending).
func (h *hostRun) installDetached(ctx context.Context, updates []patch.Update, full bool) (patch.InstallResult, error) {
	ra, ok := h.be.(patch.Reattacher)
	if !ok {
		h.job = ""
		return h.be.Install(ctx, h.t, updates, full)
	}
	var ir patch.InstallResult
	var err error
	if h.job != "" {
		h.logf(nil, "re-attaching to install job %s, left running by the interrupted run", h.job)
		ir, err = ra.ReattachInstall(ctx, h.t, h.job, updates, full)
		if errors.Is(err, patch.ErrNoSuchJob) {
			h.logf(err, "job %s is no longer on the host: installing again", h.job)
			h.job = ""
		}
	}
	if h.job == "" {
		ir, err = h.be.Install(ctx, h.t, updates, full)
	}
	var lost *patch.JobLostError
	if errors.As(err, &lost) {
		h.job = lost.Job
		h.journalCheckpoint() // durable before the reconnect: a resume re-attaches to it
	}
	err = h.reattach(ctx, err, func(t transport.Transport, job string) error {
		h.job = job
		var err error
		ir, err = ra.ReattachInstall(ctx, t, job, updates, full)
		return err
	})
	if !errors.As(err, &lost) {
		h.job = ""
	}
	return ir, err
}

// refreshDetached is installDetached for the metadata refresh.
func (h *hostRun) refreshDetached(ctx context.Context) error {
	err := h.be.Refresh(ctx, h.t)
	if ra, ok := h.be.(patch.Reattacher); ok {
		err = h.reattach(ctx, err, func(t transport.Transport, job string) error {
			return ra.ReattachRefresh(ctx, t, job)
		})
	}
	return err
}

// reattach: while err says the link to a job still running was lost, it
// dials the host again and follows the job with again.
func (h *hostRun) reattach(ctx context.Context, err error, again func(t transport.Transport, job string) error) error {
	for ctx.Err() == nil {
		var lost *patch.JobLostError
		if !errors.As(err, &lost) {
			break
		}
		h.logf(err, "job %s: connection lost; reconnecting to re-attach", lost.Job)
		t, derr := h.redialUntil(ctx)
		if derr != nil {
			return fmt.Errorf("%w; reconnect to re-attach: %w", err, derr)
		}
		err = again(t, lost.Job)
	}
	return err
}

// redialUntil replaces the host's dropped connection, retrying with backoff
// until ctx ends; credentials rejected or a changed host key end it at once.
func (h *hostRun) redialUntil(ctx context.Context) (transport.Transport, error) {
	h.closeTransport()
	tm := h.r.cfg.Timing
	delay := tm.PollInterval
	for {
		t, err := h.dial(ctx, h.connectTimeout())
		if err == nil {
			h.t = t
			return t, nil
		}
		if transport.Permanent(err) || !sleepCtx(ctx, h.r.rng.jitter(delay)) {
			return nil, err
		}
		delay = min(2*delay, tm.PollMax)
	}
}
