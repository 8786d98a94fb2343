package cmd

import (
	"fmt"
	"sort"
	"strings"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// inflight tracks which hosts are busy and in which phase, for progress
// displays ("web3 installing, db1 waiting-up +4"). Not safe for concurrent
// use: it lives inside an observer, under lockedObserver's lock.
type inflight struct {
	phase map[string]report.Phase
	done  int
}

func newInflight() *inflight { return &inflight{phase: map[string]report.Phase{}} }

// track updates the set from one event.
func (f *inflight) track(e runner.Event) {
	switch {
	case e.Kind == runner.EventHostEnd:
		delete(f.phase, e.Host)
		f.done++
	case e.Kind == runner.EventPhase && e.Phase == report.PhaseAwaitBatch:
		delete(f.phase, e.Host) // idle until its batch starts
	case e.Kind == runner.EventPhase && e.Host != "":
		f.phase[e.Host] = e.Phase
	}
}

// summary names up to max busy hosts with their phases, in name order so
// the display does not jump around.
func (f *inflight) summary(max int) string {
	if len(f.phase) == 0 {
		return ""
	}
	names := make([]string, 0, len(f.phase))
	for h := range f.phase {
		names = append(names, h)
	}
	sort.Strings(names)
	var parts []string
	for _, h := range names[:min(max, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %s", h, f.phase[h]))
	}
	s := strings.Join(parts, ", ")
	if extra := len(names) - max; extra > 0 {
		s += fmt.Sprintf(" +%d", extra)
	}
	return s
}
