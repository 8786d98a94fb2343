package htmlreport

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/patchrun/patchrun/estate"
	"github.com/patchrun/patchrun/report"
)

// build lays out the page for r: every figure comes from r as it is (the
// estate package counts them); this only formats, places and links.
func build(r *estate.Report) page {
	p := page{Title: title(r), AxisWidth: num(tlWidth)}
	newest := r.Runs[len(r.Runs)-1]
	p.Run = runInfo{ID: newest.ID, Command: string(newest.Command), DryRun: newest.DryRun,
		Started: stamp(newest.StartedAt), HaltedBy: newest.HaltedBy, Interrupted: newest.State == "interrupted",
		Generated: stamp(r.AsOf), Runs: len(r.Runs)}
	if newest.EndedAt != nil {
		p.Run.Finished = stamp(*newest.EndedAt)
		p.Run.Duration = duration(newest.EndedAt.Sub(newest.StartedAt))
	}
	if len(r.Runs) > 1 {
		p.Run.FirstID = r.Runs[0].ID
	}

	// Each host's newest selected result, by name; the run it is from.
	latest := map[string]estate.Host{}
	runOf := map[string]estate.Run{}
	for _, run := range r.Runs {
		for _, h := range run.Hosts {
			latest[h.Name], runOf[h.Name] = h, run
		}
	}
	names := make([]string, 0, len(latest))
	for n := range latest {
		names = append(names, n)
	}
	sort.Strings(names)
	used := map[string]bool{}
	anchors := map[string]string{}
	for _, n := range names {
		anchors[n] = anchor(n, used)
	}

	// One time axis for every timeline when all rows are of one run;
	// otherwise each timeline spans its own run.
	oneRun := true
	for _, n := range names {
		oneRun = oneRun && runOf[n].ID == newest.ID
	}
	scaleOf := func(run estate.Run) timeScale {
		end := run.StartedAt
		if run.EndedAt != nil {
			end = *run.EndedAt
		}
		for _, h := range run.Hosts {
			for _, s := range h.Timeline {
				if s.End.After(end) {
					end = s.End
				}
			}
		}
		return newScale(run.StartedAt, end, tlWidth)
	}
	if oneRun {
		p.Axis = axisTicks(scaleOf(newest))
	}
	scales := map[string]timeScale{}
	for _, n := range names {
		run := runOf[n]
		sc, ok := scales[run.ID]
		if !ok {
			sc = scaleOf(run)
			scales[run.ID] = sc
		}
		row := hostRowOf(latest[n], run, sc)
		row.Anchor = anchors[n]
		if !oneRun {
			row.RunID = run.ID
		}
		p.Hosts = append(p.Hosts, row)
	}
	p.HostCount = len(p.Hosts)
	p.Management = managementOf(r, anchors)
	return p
}

// title names what the report covers.
func title(r *estate.Report) string {
	if len(r.Runs) == 1 {
		run := r.Runs[0]
		s := fmt.Sprintf("%s of %d hosts", run.Command, len(run.Hosts))
		if len(run.Hosts) == 1 {
			s = fmt.Sprintf("%s of 1 host", run.Command)
		}
		return s + ", " + run.StartedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	return fmt.Sprintf("%d runs, %s to %s", len(r.Runs), r.Runs[0].StartedAt.UTC().Format("2006-01-02"),
		r.Runs[len(r.Runs)-1].StartedAt.UTC().Format("2006-01-02"))
}

func managementOf(r *estate.Report, anchors map[string]string) management {
	mg := r.Management
	m := management{
		Hosts: mg.Hosts, Compliant: mg.Compliant, Unscanned: mg.Unscanned,
		CompliancePct:   strconv.FormatFloat(mg.CompliancePercent, 'f', -1, 64) + "%",
		PendingSecurity: mg.PendingSecurity,
	}
	switch {
	case mg.Hosts == 0:
	case mg.Compliant == mg.Hosts:
		m.ComplianceClass = "good"
	case mg.CompliancePercent >= 90:
		m.ComplianceClass = "warn"
	default:
		m.ComplianceClass = "bad"
	}
	labels, metrics, classes, values := []string{}, []string{}, []string{}, []int{}
	for i, b := range mg.AgeBands {
		label, metric := fmt.Sprintf("%d–%d days", b.MinDays, b.MaxDays), fmt.Sprintf("age-%d-%d", b.MinDays, b.MaxDays)
		if b.MaxDays < 0 {
			label, metric = fmt.Sprintf("over %d days", b.MinDays-1), fmt.Sprintf("age-%d-", b.MinDays)
			m.OverMonth += b.Updates
		}
		labels, metrics, values = append(labels, label), append(metrics, metric), append(values, b.Updates)
		classes = append(classes, "age-"+strconv.Itoa(min(i, 3)))
	}
	m.Bands = buildBars(labels, metrics, classes, values)
	for _, o := range mg.ByOS {
		m.ByOS = append(m.ByOS, osRow{OS: o.OS, Hosts: o.Hosts, Security: o.PendingSecurity})
	}
	for _, n := range mg.RebootNeeded {
		m.Reboot = append(m.Reboot, hostRef{Name: n, Anchor: anchors[n]})
	}
	for _, f := range mg.Failures {
		switch f.Status {
		case report.StatusFailed:
			m.Failed++
		case report.StatusUnreachable:
			m.Unreachable++
		}
		m.Failures = append(m.Failures, failure{Host: f.Host, Anchor: anchors[f.Host], RunID: f.RunID,
			Status: string(f.Status), Kind: f.ErrorKind, Error: f.Error})
	}
	var trend []trendRun
	for _, pt := range r.Trend {
		trend = append(trend, trendRun{ID: pt.RunID, Command: string(pt.Command), Started: pt.At, Compliant: pt.Compliant,
			Hosts: pt.Hosts, Failing: pt.Failed + pt.Unreachable})
	}
	m.Trend = buildTrend(trend)
	m.TrendRuns = len(trend)
	change := func(c estate.Change) hostRef {
		return hostRef{Name: c.Host, Anchor: anchors[c.Host], Note: c.Before + " → " + c.After, Since: c.PreviousRunID}
	}
	for _, c := range r.Changes.NewlyFailing {
		m.NewlyFailing = append(m.NewlyFailing, change(c))
	}
	for _, c := range r.Changes.NewlyCompliant {
		m.NewlyCompliant = append(m.NewlyCompliant, change(c))
	}
	return m
}

// hostRowOf lays out one host's result in run on the time scale sc.
func hostRowOf(h estate.Host, run estate.Run, sc timeScale) hostRow {
	row := hostRow{
		Name: h.Name, Address: h.Address, OS: h.OS, Status: string(h.Status), StatusClass: statusClass(h.Status),
		Kind: h.ErrorKind, Phase: string(h.FailedPhase), Error: h.Error,
		Pending: len(h.Pending), Installed: len(h.Installed),
	}
	switch {
	case h.RebootPending:
		row.Reboot = "required"
	case h.Rebooted:
		row.Reboot = "rebooted"
	}
	row.Unscanned = len(h.Installed)+len(h.Pending) == 0
	for _, s := range h.Timeline {
		row.Batch = max(row.Batch, s.Batch)
		if s.Phase == report.PhaseScanning && !s.End.Equal(s.Start) {
			row.Unscanned = false
		}
	}
	for _, u := range h.Installed {
		row.Updates = append(row.Updates, updateRowOf(u, "installed", "u-installed"))
	}
	for _, u := range h.Pending {
		if u.Security {
			row.PendingSecurity++
		}
		state, class := "pending", "u-pending"
		switch {
		case u.Error != "":
			state, class = "failed", "u-failed"
		case run.Command == report.CmdPatch && !u.Selected:
			state, class = "not selected", "u-left"
		}
		row.Updates = append(row.Updates, updateRowOf(u, state, class))
	}
	row.Facts = hostFacts(h)
	if h.Output != "" {
		row.Output = h.Output
	}
	row.Timeline = buildTimeline(sc, h.Timeline)
	var sum []string
	switch {
	case row.Unscanned:
		sum = append(sum, "not scanned in this run: its updates are unknown")
	default:
		sum = append(sum, plural(len(h.Installed), "update installed", "updates installed"),
			plural(len(h.Pending), "pending", "pending"))
		if row.PendingSecurity > 0 {
			sum[1] += fmt.Sprintf(" (%d security)", row.PendingSecurity)
		}
	}
	if h.Output != "" {
		sum = append(sum, "output excerpt")
	}
	row.Summary = strings.Join(sum, " · ")
	return row
}

func updateRowOf(u estate.Update, state, class string) updateRow {
	name := u.Name
	if u.Arch != "" && u.KB == "" {
		name += "." + u.Arch
	}
	return updateRow{Name: name, Current: u.Current, Available: u.Available, KB: u.KB,
		Severity: u.Severity, SevClass: sevClass(u.Severity), CVEs: u.CVEs, KnownExploited: u.KnownExploited,
		Security: u.Security, State: state, StateClass: class, Error: u.Error}
}

// hostFacts is the short key/value list shown with a host's details.
func hostFacts(h estate.Host) []fact {
	var f []fact
	add := func(k, v string) {
		if v != "" {
			f = append(f, fact{k, v})
		}
	}
	add("transport", h.Transport)
	add("package manager", h.PackageManager)
	add("groups", strings.Join(h.Groups, ", "))
	if h.StartedAt != nil {
		add("started", stamp(*h.StartedAt))
	}
	if h.StartedAt != nil && h.FinishedAt != nil {
		add("took", duration(h.FinishedAt.Sub(*h.StartedAt)))
	}
	return f
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func statusClass(s report.Status) string {
	switch s {
	case report.StatusOK, report.StatusFailed, report.StatusUnreachable, report.StatusSkipped:
		return string(s)
	}
	return "skipped"
}

// anchor is a host's element id: "host-" and the name with anything but
// ASCII letters, digits, '-', '_' and '.' replaced, made unique by a
// counter.
func anchor(name string, used map[string]bool) string {
	var b strings.Builder
	b.WriteString("host-")
	for _, r := range name {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	a := b.String()
	for i := 2; used[a]; i++ {
		a = b.String() + "-" + strconv.Itoa(i)
	}
	used[a] = true
	return a
}

// stamp formats a time for the page, in UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// sevClass is the CSS class of a normalised severity.
func sevClass(s string) string {
	switch s {
	case "critical", "important", "moderate", "low":
		return "sev-" + s
	}
	return "sev-unknown"
}
