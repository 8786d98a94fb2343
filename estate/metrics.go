package estate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/report"
)

// WriteJSON writes r as one indented JSON document (docs/reports.md).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Metrics is the estate as Prometheus sees it: every host as last seen
// and every run.
type Metrics struct {
	Hosts []history.Host
	Runs  []history.Run
}

// LoadMetrics reads the metrics from st.
func LoadMetrics(ctx context.Context, st history.Store) (Metrics, error) {
	hosts, err := st.Hosts(ctx)
	if err != nil {
		return Metrics{}, err
	}
	runs, err := st.Runs(ctx)
	return Metrics{Hosts: hosts, Runs: runs}, err
}

// promLabel escapes a label value as the text format wants it.
func promLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// WriteMetrics writes m in the Prometheus text format, for
// node_exporter's textfile collector. Times are Unix-seconds gauges, so
// an alert computes their age: time() - patchrun_last_success_timestamp_seconds.
func WriteMetrics(w io.Writer, m Metrics) error {
	var b strings.Builder
	gauge := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	gauge("patchrun_hosts", "Hosts in the history database by their status in the last run that included them.")
	byStatus := map[string]int{}
	for _, s := range []report.Status{report.StatusOK, report.StatusFailed, report.StatusUnreachable, report.StatusSkipped} {
		byStatus[string(s)] = 0
	}
	for _, h := range m.Hosts {
		byStatus[string(h.LastStatus)]++
	}
	for _, s := range sortedKeys(byStatus) {
		fmt.Fprintf(&b, "patchrun_hosts{status=\"%s\"} %d\n", promLabel(s), byStatus[s])
	}
	perHost := []struct {
		name, help string
		value      func(history.Host) string
	}{
		{"patchrun_host_pending_updates", "Updates pending on the host at its last scan.",
			func(h history.Host) string { return fmt.Sprint(h.Pending) }},
		{"patchrun_host_pending_security_updates", "Security updates pending on the host at its last scan.",
			func(h history.Host) string { return fmt.Sprint(h.Security) }},
		{"patchrun_host_reboot_required", "1 if the host's last result needed a reboot that was not done.",
			func(h history.Host) string { return fmt.Sprint(b2i(h.RebootRequired)) }},
		{"patchrun_host_up", "1 if the host ended ok in the last run that included it.",
			func(h history.Host) string { return fmt.Sprint(b2i(h.LastStatus == report.StatusOK)) }},
		{"patchrun_host_last_seen_timestamp_seconds", "When a run last reached the host (Unix seconds).",
			func(h history.Host) string { return unixOrEmpty(h.LastSeen) }},
		{"patchrun_host_last_patched_timestamp_seconds", "When a patch last installed an update on the host (Unix seconds).",
			func(h history.Host) string { return unixOrEmpty(h.LastPatched) }},
		{"patchrun_host_oldest_security_update_timestamp_seconds", "When the host's oldest pending security update was first seen pending (Unix seconds).",
			func(h history.Host) string { return unixOrEmpty(h.OldestSecurity) }},
	}
	for _, g := range perHost {
		gauge(g.name, g.help)
		for _, h := range m.Hosts {
			if v := g.value(h); v != "" {
				fmt.Fprintf(&b, "%s{host=\"%s\"} %s\n", g.name, promLabel(h.Name), v)
			}
		}
	}
	last, ok := map[string]int64{}, map[string]int64{}
	for _, r := range m.Runs {
		if r.DryRun {
			continue
		}
		t := runTime(r).Unix()
		c := string(r.Command)
		last[c] = max(last[c], t)
		if r.ExitCode != nil && *r.ExitCode == 0 && r.State == "finished" {
			ok[c] = max(ok[c], t)
		}
	}
	gauge("patchrun_last_run_timestamp_seconds", "When the newest run of each command ended (Unix seconds; dry runs not counted).")
	for _, c := range sortedKeys(last) {
		fmt.Fprintf(&b, "patchrun_last_run_timestamp_seconds{command=\"%s\"} %d\n", promLabel(c), last[c])
	}
	gauge("patchrun_last_success_timestamp_seconds", "When the newest run of each command that ended with every host ok (exit code 0) ended (Unix seconds).")
	for _, c := range sortedKeys(ok) {
		fmt.Fprintf(&b, "patchrun_last_success_timestamp_seconds{command=\"%s\"} %d\n", promLabel(c), ok[c])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// unixOrEmpty is t in Unix seconds; "" (no sample) for nil.
func unixOrEmpty(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmt.Sprint(t.Unix())
}
