package estate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/report"
)

// Selection says which runs a report covers: one run by id, the newest
// run (Last), or every run started within Since before Now.
type Selection struct {
	RunID string
	Last  bool
	Since time.Duration
	Now   time.Time // for Since
	// TrendRuns is how many runs the trend shows (DefaultTrendRuns if 0).
	TrendRuns int
}

// DefaultTrendRuns is the trend's length by default.
const DefaultTrendRuns = 10

// ErrNoRuns: the selection matched no run in the history database.
var ErrNoRuns = errors.New("no run in the history database matches")

// Load builds the report of the runs sel selects from st.
func Load(ctx context.Context, st history.Store, sel Selection) (*Report, error) {
	all, err := st.Runs(ctx)
	if err != nil {
		return nil, err
	}
	picked, err := selectRuns(all, sel)
	if err != nil {
		return nil, err
	}
	rep := &Report{Runs: []Run{}}
	newest := picked[len(picked)-1]
	rep.AsOf = runTime(newest)
	latest := map[string]Host{} // each host's newest selected result
	latestRun := map[string]string{}
	for _, r := range picked {
		hosts, err := st.RunHosts(ctx, r.ID)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", r.ID, err)
		}
		run := newRun(r, hosts)
		for _, h := range run.Hosts {
			latest[h.Name], latestRun[h.Name] = h, r.ID
		}
		rep.Runs = append(rep.Runs, run)
	}
	statuses, err := st.HostStatuses(ctx, newest.StartedAt)
	if err != nil {
		return nil, err
	}
	pending, err := st.PendingAt(ctx, rep.AsOf)
	if err != nil {
		return nil, err
	}
	known, err := st.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	lastOS := map[string]string{}
	for _, h := range known {
		lastOS[h.Name] = h.OS
	}
	rep.Management = management(rep.AsOf, latest, latestRun, lastOS, pending, scannedBy(statuses, rep.AsOf))
	if rep.Trend, err = trend(ctx, st, all, newest, sel.TrendRuns, statuses); err != nil {
		return nil, err
	}
	if rep.Changes, err = changes(ctx, st, rep.Runs[len(rep.Runs)-1], statuses, pending); err != nil {
		return nil, err
	}
	return rep, nil
}

// selectRuns picks sel's runs from all (oldest first).
func selectRuns(all []history.Run, sel Selection) ([]history.Run, error) {
	switch {
	case sel.RunID != "":
		for _, r := range all {
			if r.ID == sel.RunID {
				return []history.Run{r}, nil
			}
		}
		return nil, fmt.Errorf("%w run id %s (hint: patchrun runs lists the runs)", ErrNoRuns, sel.RunID)
	case sel.Since > 0:
		from := sel.Now.Add(-sel.Since)
		var out []history.Run
		for _, r := range all {
			if !r.StartedAt.Before(from) {
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: none started since %s", ErrNoRuns, from.UTC().Format(time.RFC3339))
		}
		return out, nil
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: it holds no run yet (hint: run a scan or a patch first)", ErrNoRuns)
	}
	return all[len(all)-1:], nil
}

// runTime is when a run's figures are taken: its end, else its start.
func runTime(r history.Run) time.Time {
	if !r.EndedAt.IsZero() {
		return r.EndedAt
	}
	return r.StartedAt
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func newRun(r history.Run, hosts []history.RunHost) Run {
	run := Run{ID: r.ID, Command: r.Command, DryRun: r.DryRun, StartedAt: r.StartedAt, EndedAt: optTime(r.EndedAt),
		State: r.State, ExitCode: r.ExitCode, HaltedBy: r.HaltedBy, Counts: r.Counts, Hosts: []Host{}}
	for _, h := range hosts {
		out := Host{Name: h.Name, Address: h.Address, Transport: h.Transport, OS: h.OS, PackageManager: h.PackageManager,
			Groups: h.Groups, Status: h.Status, ErrorKind: h.ErrorKind, Error: h.Error, FailedPhase: h.FailedPhase,
			Output: h.Output, Rebooted: h.Rebooted, RebootPending: h.RebootPending,
			StartedAt: optTime(h.StartedAt), FinishedAt: optTime(h.FinishedAt),
			Installed: []Update{}, Pending: []Update{}, Timeline: h.Timeline}
		if out.Timeline == nil {
			out.Timeline = []Segment{}
		}
		for _, u := range h.Updates {
			eu := Update{Name: u.Name, Arch: u.Arch, Current: u.Current, Available: u.Available, KB: u.KB,
				Security: u.Security, Severity: u.Severity, CVEs: u.CVEs, KnownExploited: u.KnownExploited,
				Selected: u.Selected, Error: u.Error}
			if u.Installed {
				out.Installed = append(out.Installed, eu)
			} else {
				out.Pending = append(out.Pending, eu)
			}
		}
		run.Hosts = append(run.Hosts, out)
		run.Counts.UpdatesFound += len(h.Updates)
		run.Counts.UpdatesInstalled += len(out.Installed)
		if h.Rebooted {
			run.Counts.Rebooted++
		}
	}
	return run
}

// scannedBy is the hosts a scan or a patch scanned by t: ended ok, or
// failed after their scan (in an install, a reboot, a hook or the health
// check), so their pending updates are known.
func scannedBy(statuses []history.HostStatus, t time.Time) map[string]bool {
	out := map[string]bool{}
	for _, s := range statuses {
		if s.StartedAt.After(t) || (s.Status != report.StatusOK && !s.FailedPhase.AfterScan()) {
			continue
		}
		if s.Command == report.CmdScan || s.Command == report.CmdPatch {
			out[s.Host] = true
		}
	}
	return out
}

// The age bands of pending security updates, in days.
var ageBands = []AgeBand{
	{Label: "0-7", MinDays: 0, MaxDays: 7},
	{Label: "8-14", MinDays: 8, MaxDays: 14},
	{Label: "15-30", MinDays: 15, MaxDays: 30},
	{Label: ">30", MinDays: 31, MaxDays: -1},
}

// securityByHost counts the security updates pending per host.
func securityByHost(pending []history.PendingUpdate) map[string]int {
	out := map[string]int{}
	for _, u := range pending {
		if u.Security {
			out[u.Host]++
		}
	}
	return out
}

// management is the figures over latest (each host's newest selected
// result); a host whose result has no OS (unreachable) files under the
// OS it was last seen with (lastOS).
func management(asOf time.Time, latest map[string]Host, latestRun, lastOS map[string]string, pending []history.PendingUpdate, scanned map[string]bool) Management {
	m := Management{Hosts: len(latest), AgeBands: append([]AgeBand(nil), ageBands...), ByOS: []OSCount{},
		RebootNeeded: []string{}, Failures: []Failure{}}
	names := sortedKeys(latest)
	sec := securityByHost(pending)
	osOf := map[string]string{}
	byOS := map[string]*OSCount{}
	for _, n := range names {
		h := latest[n]
		osName := h.OS
		if osName == "" {
			osName = lastOS[n]
		}
		if osName == "" {
			osName = "unknown"
		}
		osOf[n] = osName
		if byOS[osName] == nil {
			byOS[osName] = &OSCount{OS: osName}
		}
		byOS[osName].Hosts++
		switch {
		case !scanned[n]:
			m.Unscanned++
		case sec[n] == 0:
			m.Compliant++
		}
		if h.RebootPending {
			m.RebootNeeded = append(m.RebootNeeded, n)
		}
		if h.Status == report.StatusFailed || h.Status == report.StatusUnreachable {
			m.Failures = append(m.Failures, Failure{Host: n, RunID: latestRun[n], Status: h.Status, ErrorKind: h.ErrorKind, Error: h.Error})
		}
	}
	// The fleet's pending security updates by age band and by OS.
	for _, u := range pending {
		osName, inFleet := osOf[u.Host]
		if !u.Security || !inFleet {
			continue
		}
		m.PendingSecurity++
		byOS[osName].PendingSecurity++
		days := int(asOf.Sub(u.FirstSeen) / (24 * time.Hour))
		for i, b := range m.AgeBands {
			if days >= b.MinDays && (b.MaxDays < 0 || days <= b.MaxDays) {
				m.AgeBands[i].Updates++
				break
			}
		}
	}
	for _, o := range sortedKeys(byOS) {
		m.ByOS = append(m.ByOS, *byOS[o])
	}
	if m.Hosts > 0 {
		m.CompliancePercent = float64(m.Compliant*1000/m.Hosts) / 10
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// trend is the last n runs up to and including newest, each with the
// compliance of its hosts as of its end.
func trend(ctx context.Context, st history.Store, all []history.Run, newest history.Run, n int, statuses []history.HostStatus) ([]Point, error) {
	if n <= 0 {
		n = DefaultTrendRuns
	}
	end := 0
	for i, r := range all {
		if r.ID == newest.ID {
			end = i + 1
		}
	}
	start := max(0, end-n)
	hostsOf := map[string][]string{}
	for _, s := range statuses {
		hostsOf[s.RunID] = append(hostsOf[s.RunID], s.Host)
	}
	out := []Point{}
	for _, r := range all[start:end] {
		at := runTime(r)
		pending, err := st.PendingAt(ctx, at)
		if err != nil {
			return nil, err
		}
		sec := securityByHost(pending)
		scanned := scannedBy(statuses, at)
		p := Point{RunID: r.ID, Command: r.Command, At: at, Hosts: r.Counts.Hosts, OK: r.Counts.OK, Failed: r.Counts.Failed,
			Unreachable: r.Counts.Unreachable, Skipped: r.Counts.Skipped}
		for _, h := range hostsOf[r.ID] {
			p.PendingSecurity += sec[h]
			if scanned[h] && sec[h] == 0 {
				p.Compliant++
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// changes compares each host of run with its own previous result (its
// newest in a run started before run).
func changes(ctx context.Context, st history.Store, run Run, statuses []history.HostStatus, pendingNow []history.PendingUpdate) (Changes, error) {
	c := Changes{NewlyFailing: []Change{}, NewlyCompliant: []Change{}}
	prev := map[string]history.HostStatus{}
	for _, s := range statuses {
		if s.RunID != run.ID && s.StartedAt.Before(run.StartedAt) || s.StartedAt.Equal(run.StartedAt) && s.RunID < run.ID {
			prev[s.Host] = s
		}
	}
	secNow := securityByHost(pendingNow)
	runEnd := map[string]time.Time{}
	secThen := map[string]map[string]int{} // previous run id → host → pending security
	all, err := st.Runs(ctx)
	if err != nil {
		return c, err
	}
	for _, r := range all {
		runEnd[r.ID] = runTime(r)
	}
	for _, h := range run.Hosts {
		p, ok := prev[h.Name]
		if !ok {
			continue
		}
		failing := h.Status == report.StatusFailed || h.Status == report.StatusUnreachable
		if failing && p.Status == report.StatusOK {
			c.NewlyFailing = append(c.NewlyFailing, Change{Host: h.Name, PreviousRunID: p.RunID, Before: string(p.Status), After: string(h.Status)})
		}
		if h.Status != report.StatusOK || secNow[h.Name] > 0 {
			continue
		}
		if secThen[p.RunID] == nil {
			pending, err := st.PendingAt(ctx, runEnd[p.RunID])
			if err != nil {
				return c, err
			}
			secThen[p.RunID] = securityByHost(pending)
		}
		if n := secThen[p.RunID][h.Name]; n > 0 {
			c.NewlyCompliant = append(c.NewlyCompliant, Change{Host: h.Name, PreviousRunID: p.RunID,
				Before: fmt.Sprintf("%d security update(s) pending", n), After: "no security update pending"})
		}
	}
	return c, nil
}
