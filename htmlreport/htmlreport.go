// Package htmlreport writes the HTML report: one self-contained page
// (inline CSS, script and SVG; it loads nothing and sends nothing) with a
// management page (compliance, pending security updates by age and by
// OS, reboots, failures, the trend over the last runs, what changed since
// the previous run) and a technician page (one row per host, sortable and
// filterable, with its updates, error, output excerpt and a timeline of
// its phases). It renders an estate.Report; it counts nothing itself.
package htmlreport

import (
	"errors"
	"io"

	"github.com/patchrun/patchrun/estate"
)

// Write writes r as one HTML page. The same report gives the same bytes.
// Everything that came from a host is escaped; the page's script only
// sorts and filters, and the page reads without it.
func Write(w io.Writer, r *estate.Report) error {
	if r == nil || len(r.Runs) == 0 {
		return errors.New("html report: no run to show")
	}
	return render(w, build(r))
}
