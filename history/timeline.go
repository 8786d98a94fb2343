package history

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/patchrun/patchrun/report"
)

// Segment is one stretch of a host's run in one phase: from the event
// that put it in Phase to the next phase event or its end. Batch is the
// reboot batch the host was in by then (0: none yet); Wave the rollout
// wave, when the events name one.
type Segment struct {
	Phase report.Phase `json:"phase"`
	Start time.Time    `json:"start"`
	End   time.Time    `json:"end"`
	Batch int          `json:"batch,omitempty"`
	Wave  int          `json:"wave,omitempty"`
}

// eventLine is the part of a journal's event record a timeline needs
// (the record is the --events line, docs/events.md).
type eventLine struct {
	Time   time.Time `json:"time"`
	Event  string    `json:"event"`
	Host   string    `json:"host"`
	Phase  string    `json:"phase"`
	Batch  int       `json:"batch"`
	Wave   int       `json:"wave"`
	Detail string    `json:"detail"`
}

// timeline folds a run's events, in order, into each host's segments.
type timeline struct {
	hosts map[string][]Segment
	open  map[string]bool // the host's last segment has no end yet
	batch map[string]int  // the batch each host was last put in
	wave  map[string]int
	last  time.Time
}

func newTimeline() *timeline {
	return &timeline{hosts: map[string][]Segment{}, open: map[string]bool{}, batch: map[string]int{}, wave: map[string]int{}}
}

// add folds one event record's payload; one that is not an event line
// is passed over (events are for reading, not for trusting).
func (tl *timeline) add(raw json.RawMessage) error {
	var e eventLine
	if json.Unmarshal(raw, &e) != nil || e.Time.IsZero() {
		return nil
	}
	if e.Time.After(tl.last) {
		tl.last = e.Time
	}
	switch e.Event {
	case "batch.start":
		for _, h := range strings.Split(e.Detail, ",") {
			if h = strings.TrimSpace(h); h != "" {
				tl.batch[h] = e.Batch
				if e.Wave > 0 {
					tl.wave[h] = e.Wave
				}
				// The wait for a batch belongs to the batch it ends in.
				if s := tl.hosts[h]; tl.open[h] && s[len(s)-1].Phase == report.PhaseAwaitBatch {
					s[len(s)-1].Batch = e.Batch
				}
			}
		}
	case "host.phase":
		if e.Host == "" || e.Phase == "" {
			return nil
		}
		tl.close(e.Host, e.Time)
		if e.Batch > 0 {
			tl.batch[e.Host] = e.Batch
		}
		if e.Wave > 0 {
			tl.wave[e.Host] = e.Wave
		}
		if report.Phase(e.Phase) == report.PhaseDone {
			return nil
		}
		tl.hosts[e.Host] = append(tl.hosts[e.Host], Segment{Phase: report.Phase(e.Phase), Start: e.Time,
			Batch: tl.batch[e.Host], Wave: tl.wave[e.Host]})
		tl.open[e.Host] = true
	case "host.done":
		if e.Host != "" {
			tl.close(e.Host, e.Time)
		}
	}
	return nil
}

func (tl *timeline) close(host string, at time.Time) {
	if !tl.open[host] {
		return
	}
	s := tl.hosts[host]
	s[len(s)-1].End = at
	tl.open[host] = false
}

// done ends the segments still open at end (the run's end, else its
// last event) and returns every host's segments.
func (tl *timeline) done(end time.Time) map[string][]Segment {
	if end.IsZero() || end.Before(tl.last) {
		end = tl.last
	}
	hosts := make([]string, 0, len(tl.open))
	for h := range tl.open {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		tl.close(h, end)
	}
	return tl.hosts
}
