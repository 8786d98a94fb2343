package runner

import (
	"sync"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// journalState is a run's bookkeeping for Deps.Journal. Concurrency: safe
// for concurrent use.
type journalState struct {
	mu  sync.Mutex
	err error // the first journal error: the journal is incomplete
}

func (j *journalState) note(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		j.err = err
	}
}

func (j *journalState) firstErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// journalCheckpoint records the host's state in the journal, if there is one. A
// failure is logged on the host and noted for the report; the host goes on.
func (h *hostRun) journalCheckpoint() {
	j := h.r.deps.Journal
	if j == nil {
		return
	}
	phase := h.currentPhase()
	round := h.res.Rounds
	if phase == report.PhaseInstalling {
		round++ // the round being installed has started
	}
	var installed []patch.Update
	for _, u := range h.res.Updates {
		if u.Installed {
			installed = append(installed, u.Update)
		}
	}
	err := j.Checkpoint(Checkpoint{
		Host:         h.host.Name,
		Phase:        phase,
		Round:        round,
		Batch:        h.res.RebootBatch,
		Wave:         h.res.Wave,
		Selected:     h.selected,
		Installed:    installed,
		BootIDBefore: h.bootBefore,
		RebootAt:     h.rebootAt,
		Reboots:      h.reboots,
		Job:          h.job,
	})
	if err != nil {
		h.r.journal.note(err)
		h.logf(err, "journal checkpoint (%s)", phase)
	}
}

// journalResult writes the ended host's result to the journal and, once
// it is durable there, keeps only what the summary and the text table
// need. Without a journal, or if the write fails, the full result stays.
func (h *hostRun) journalResult() {
	j := h.r.deps.Journal
	if j == nil {
		return
	}
	full := h.result()
	h.summary = report.Summarize([]report.HostResult{full})
	if err := j.Result(full); err != nil {
		h.r.journal.note(err)
		h.logf(err, "journal result")
		return
	}
	h.res = compact(full)
	h.pending, h.selected, h.byKey, h.installed = nil, nil, nil, nil
	// The backend (its probe output), the facts and the last step's
	// command tails are in the journal too: a finished host keeps none.
	h.be, h.facts = nil, patch.Facts{}
	h.capture.begin(false)
}

// compact is a result without its per-update lists and output tails: the
// part a journaled run keeps in memory for its summary and table.
func compact(r report.HostResult) report.HostResult {
	r.Updates = nil
	r.RebootReasons = nil
	r.WouldInstall = nil
	r.Output = nil
	if r.Exec != nil {
		r.Exec = &report.ExecResult{ExitCode: r.Exec.ExitCode, Truncated: r.Exec.Truncated}
	}
	return r
}

// journaledSummary adds up the hosts' summaries taken before compaction.
func (r *run) journaledSummary() report.Summary {
	var s report.Summary
	for _, h := range r.hosts {
		hs := h.summary
		s.Hosts += hs.Hosts
		s.OK += hs.OK
		s.Failed += hs.Failed
		s.Unreachable += hs.Unreachable
		s.Skipped += hs.Skipped
		s.UpdatesFound += hs.UpdatesFound
		s.UpdatesInstalled += hs.UpdatesInstalled
		s.UpdatesUnknown += hs.UpdatesUnknown
		s.Rebooted += hs.Rebooted
	}
	return s
}
