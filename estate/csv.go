package estate

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSV row kinds (--csv-rows).
const (
	CSVHosts   = "hosts"
	CSVUpdates = "updates"
)

var csvHostsHeader = []string{"run_id", "command", "host", "address", "os", "groups", "status", "error_kind", "error",
	"failed_phase", "installed", "pending", "pending_security", "rebooted", "reboot_pending", "started_at", "finished_at"}

var csvUpdatesHeader = []string{"run_id", "host", "name", "arch", "current", "available", "kb", "security", "severity",
	"cves", "known_exploited", "state", "error"}

// WriteCSV writes r as RFC 4180 CSV (CRLF line ends, a header row): one
// row per host and run (rows "hosts"), or per update a host listed in a
// run (rows "updates"; state is installed, failed (selected, not
// installed) or pending).
func WriteCSV(w io.Writer, r *Report, rows string) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	switch rows {
	case CSVHosts:
		if err := cw.Write(csvHostsHeader); err != nil {
			return err
		}
		for _, run := range r.Runs {
			for _, h := range run.Hosts {
				sec := 0
				for _, u := range h.Pending {
					if u.Security {
						sec++
					}
				}
				if err := cw.Write([]string{run.ID, string(run.Command), h.Name, h.Address, h.OS, strings.Join(h.Groups, " "),
					string(h.Status), h.ErrorKind, h.Error, string(h.FailedPhase), strconv.Itoa(len(h.Installed)),
					strconv.Itoa(len(h.Pending)), strconv.Itoa(sec), strconv.FormatBool(h.Rebooted), strconv.FormatBool(h.RebootPending),
					rfc3339(h.StartedAt), rfc3339(h.FinishedAt)}); err != nil {
					return err
				}
			}
		}
	case CSVUpdates:
		if err := cw.Write(csvUpdatesHeader); err != nil {
			return err
		}
		for _, run := range r.Runs {
			for _, h := range run.Hosts {
				for _, u := range h.Installed {
					if err := cw.Write(updateRow(run.ID, h.Name, u, "installed")); err != nil {
						return err
					}
				}
				for _, u := range h.Pending {
					state := "pending"
					if u.Selected {
						state = "failed"
					}
					if err := cw.Write(updateRow(run.ID, h.Name, u, state)); err != nil {
						return err
					}
				}
			}
		}
	default:
		return fmt.Errorf("--csv-rows %s: want hosts or updates", rows)
	}
	cw.Flush()
	return cw.Error()
}

func updateRow(runID, host string, u Update, state string) []string {
	return []string{runID, host, u.Name, u.Arch, u.Current, u.Available, u.KB, strconv.FormatBool(u.Security), u.Severity,
		strings.Join(u.CVEs, " "), strconv.FormatBool(u.KnownExploited), state, u.Error}
}

func rfc3339(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
