package history

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/inventory"
)

// Filter selects hosts for `patchrun hosts`. Zero fields select all.
type Filter struct {
	Limit           string        // a --limit pattern (host names only: the database holds no groups)
	Stale           time.Duration // not seen for at least this long (or never seen)
	MissingSecurity bool          // a security update is pending
	OlderThan       time.Duration // a security update has been pending longer than this
}

// Select keeps the hosts f selects, in order, as of now.
func (f Filter) Select(hosts []Host, now time.Time) ([]Host, error) {
	if f.Limit != "" && len(hosts) > 0 {
		inv := make([]inventory.Host, len(hosts))
		for i, h := range hosts {
			inv[i] = inventory.Host{Name: h.Name}
		}
		sel, err := inventory.Select(inv, f.Limit)
		if err != nil {
			return nil, err
		}
		keep := map[string]bool{}
		for _, h := range sel {
			keep[h.Name] = true
		}
		var out []Host
		for _, h := range hosts {
			if keep[h.Name] {
				out = append(out, h)
			}
		}
		hosts = out
	}
	var out []Host
	for _, h := range hosts {
		if f.Stale > 0 && h.LastSeen != nil && now.Sub(*h.LastSeen) < f.Stale {
			continue
		}
		if f.MissingSecurity && h.Security == 0 {
			continue
		}
		if f.OlderThan > 0 && (h.OldestSecurity == nil || now.Sub(*h.OldestSecurity) <= f.OlderThan) {
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

// ParseAge parses an age as the hosts filters take it: a number of days
// ("7d", "14d") or a Go duration ("36h", "90m").
func ParseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q: want a number of days like 7d, or a duration like 36h", s)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want a number of days like 7d, or a duration like 36h", s)
	}
	return d, nil
}

// Age is d in the largest whole unit: "16d", "5h", "12m", "now".
func Age(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return "now"
}

func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	a := Age(now.Sub(*t))
	if a == "now" {
		return "just now"
	}
	return a + " ago"
}

// WriteText writes hosts as a table, remote text escaped for a terminal.
func WriteText(w io.Writer, hosts []Host, now time.Time) error {
	if len(hosts) == 0 {
		_, err := fmt.Fprintln(w, "no hosts in the history (run a scan or a patch first)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tOS\tLAST SEEN\tLAST PATCHED\tPENDING (SEC)\tOLDEST SEC\tREBOOT\tLAST RUN")
	for _, h := range hosts {
		oldest := "-"
		if h.OldestSecurity != nil {
			oldest = Age(now.Sub(*h.OldestSecurity))
		}
		reboot := "no"
		if h.RebootRequired {
			reboot = "yes"
		}
		osName := h.OS
		if osName == "" {
			osName = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d (%d)\t%s\t%s\t%s\n",
			termtext.Line(h.Name), termtext.Line(osName), ago(h.LastSeen, now), ago(h.LastPatched, now),
			h.Pending, h.Security, oldest, reboot, termtext.Line(string(h.LastStatus)))
	}
	return tw.Flush()
}

// WriteJSON writes hosts as a JSON array (times in RFC 3339, UTC).
func WriteJSON(w io.Writer, hosts []Host) error {
	if hosts == nil {
		hosts = []Host{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(hosts)
}

// csvHeader is the CSV columns, in order.
var csvHeader = []string{"name", "address", "os", "package_manager", "last_seen", "last_patched",
	"pending", "pending_security", "oldest_security_since", "oldest_security_days", "reboot_required", "last_status", "last_run_id"}

// WriteCSV writes hosts as RFC 4180 CSV with a header row.
func WriteCSV(w io.Writer, hosts []Host, now time.Time) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, h := range hosts {
		days := ""
		if h.OldestSecurity != nil {
			days = strconv.Itoa(int(now.Sub(*h.OldestSecurity) / (24 * time.Hour)))
		}
		if err := cw.Write([]string{h.Name, h.Address, h.OS, h.PackageManager, ts(h.LastSeen), ts(h.LastPatched),
			strconv.Itoa(h.Pending), strconv.Itoa(h.Security), ts(h.OldestSecurity), days,
			strconv.FormatBool(h.RebootRequired), string(h.LastStatus), h.LastRunID}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
