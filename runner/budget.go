package runner

import (
	"fmt"
	"strings"

	"github.com/patchrun/patchrun/report"
)

// Budget is a count or a percentage of hosts ("3" or "10%"), or, for a
// failure budget, no limit at all.
type Budget struct {
	N         int
	Percent   bool
	Unlimited bool // only a failure budget may be unlimited
}

// Of resolves the budget against a total (a percentage rounds down, but a
// non-zero percentage of a non-empty set is at least 1). An unlimited
// budget is the whole total.
func (b Budget) Of(total int) int {
	switch {
	case b.Unlimited:
		return total
	case !b.Percent:
		return b.N
	}
	n := total * b.N / 100
	if n == 0 && b.N > 0 && total > 0 {
		n = 1
	}
	return n
}

// String writes the budget as it is typed: "5", "20%" or "unlimited".
func (b Budget) String() string {
	switch {
	case b.Unlimited:
		return "unlimited"
	case b.Percent:
		return fmt.Sprintf("%d%%", b.N)
	}
	return fmt.Sprint(b.N)
}

// Batches gives the sizes of the reboot batches in order: one size for
// every batch ("10%"), or a canary then a ramp ("1,10%,25%": the first
// batch has 1 host, the second 10% of the hosts to reboot, then 25% per
// batch until done). The last size repeats.
type Batches []Budget

// DefaultBatches reboots 10% of the hosts that need it at a time.
func DefaultBatches() Batches { return Batches{{N: 10, Percent: true}} }

// Size is the number of hosts in batch number batch (1-based), out of
// candidates hosts that need a reboot: at least 1.
func (b Batches) Size(batch, candidates int) int {
	if len(b) == 0 {
		b = DefaultBatches()
	}
	step := b[min(batch, len(b))-1]
	return max(1, step.Of(candidates))
}

// String writes the batches as they are typed: "1,10%,25%".
func (b Batches) String() string {
	parts := make([]string, len(b))
	for i, s := range b {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

// budgetSpent checks the failure and unreachable budgets: the one check
// made before any new batch starts. by is the budget spent
// (report.HaltFailures or report.HaltUnreachable, "" if none) and why says
// so in words. Called between batches, when no other goroutine touches any
// host.
func (r *run) budgetSpent() (by, why string) {
	failed, unreachable := 0, 0
	for _, h := range r.hosts {
		switch {
		case !h.ended:
		case h.res.Status == report.StatusFailed:
			failed++
		case h.res.Status == report.StatusUnreachable:
			unreachable++
		}
	}
	if limit, ok := r.cfg.failureLimit(); ok && failed > limit {
		return report.HaltFailures, fmt.Sprintf("failure budget spent (%d failures > limit %d)", failed, limit)
	}
	if mu := r.cfg.MaxUnreachable; mu != nil && unreachable > mu.Of(len(r.cfg.Hosts)) {
		return report.HaltUnreachable, fmt.Sprintf("unreachable budget spent (%d unreachable > limit %d)", unreachable, mu.Of(len(r.cfg.Hosts)))
	}
	return "", ""
}
