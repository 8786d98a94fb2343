package estate

import (
	"fmt"
	"io"
	"strings"

	"github.com/patchrun/patchrun/internal/termtext"
)

// mdCell makes remote text safe in a Markdown table cell or list item:
// one line, control characters shown escaped (termtext), pipes and markup
// characters escaped, cut to 200 characters.
func mdCell(s string) string {
	s = termtext.Line(strings.Join(strings.Fields(s), " "))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|#", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// WriteMarkdown writes a short summary of r for a chat or a ticket: the
// runs, the estate's figures, what changed and what failed.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	m := r.Management
	fmt.Fprintf(&b, "## patchrun report, %s\n\n", r.AsOf.UTC().Format("2006-01-02 15:04 UTC"))
	for _, run := range r.Runs {
		dry := ""
		if run.DryRun {
			dry = " (dry run)"
		}
		c := run.Counts
		fmt.Fprintf(&b, "- **%s**%s `%s`, %s: %d hosts, %d ok, %d failed, %d unreachable, %d skipped", run.Command, dry, run.ID,
			run.State, c.Hosts, c.OK, c.Failed, c.Unreachable, c.Skipped)
		if run.HaltedBy != "" {
			fmt.Fprintf(&b, ", halted by the %s budget", run.HaltedBy)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n**Compliance: %d of %d hosts (%.1f%%)** have no security update pending", m.Compliant, m.Hosts, m.CompliancePercent)
	if m.Unscanned > 0 {
		fmt.Fprintf(&b, "; %d never scanned", m.Unscanned)
	}
	b.WriteString(".\n\n")
	fmt.Fprintf(&b, "| pending security updates | 0-7 days | 8-14 days | 15-30 days | over 30 days |\n|---:|---:|---:|---:|---:|\n| %d |", m.PendingSecurity)
	for _, a := range m.AgeBands {
		fmt.Fprintf(&b, " %d |", a.Updates)
	}
	b.WriteString("\n\n")
	if len(m.RebootNeeded) > 0 {
		fmt.Fprintf(&b, "**Reboot needed** (%d): %s\n\n", len(m.RebootNeeded), mdList(m.RebootNeeded))
	}
	if len(r.Changes.NewlyFailing) > 0 || len(r.Changes.NewlyCompliant) > 0 {
		var parts []string
		if n := len(r.Changes.NewlyFailing); n > 0 {
			parts = append(parts, fmt.Sprintf("%d newly failing (%s)", n, mdList(changeHosts(r.Changes.NewlyFailing))))
		}
		if n := len(r.Changes.NewlyCompliant); n > 0 {
			parts = append(parts, fmt.Sprintf("%d newly compliant (%s)", n, mdList(changeHosts(r.Changes.NewlyCompliant))))
		}
		fmt.Fprintf(&b, "**Since the previous run:** %s.\n\n", strings.Join(parts, "; "))
	}
	if len(m.Failures) > 0 {
		fmt.Fprintf(&b, "**Failures** (%d):\n\n| host | status | kind | error |\n|---|---|---|---|\n", len(m.Failures))
		for _, f := range m.Failures {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCell(f.Host), f.Status, mdCell(f.ErrorKind), mdCell(f.Error))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func changeHosts(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Host
	}
	return out
}

func mdList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = mdCell(n)
	}
	return strings.Join(out, ", ")
}
