package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/report"
)

// render writes the run's result to stdout in one of the report package's
// formats (validated with the flags).
func (a *app) render(format string, r report.Report) error {
	switch report.Format(format) {
	case report.FormatJSON:
		a.riskLine(r.Command, r.Hosts)
		return report.WriteJSON(a.streams.Out, r)
	case report.FormatText, report.FormatWide:
		return writeText(a.streams.Out, r, layout{width: a.outputWidth(), wide: format == string(report.FormatWide), textView: a.view})
	}
	return fmt.Errorf("no writer for output format %q", format)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// layout is how the text result is shaped: wide shows every column in full
// (whole OS names and boot ids, no cuts); otherwise names are shortened,
// columns with nothing to say left out, and with width > 0 the table is
// cut to fit that many columns.
type layout struct {
	width int
	wide  bool
	textView
}

// riskLine tells a scan's risk on stderr when stdout carries a document
// (the text table prints it under its summary instead).
func (a *app) riskLine(cmd report.Command, hosts []report.HostResult) {
	if cmd != report.CmdScan {
		return
	}
	var t report.RiskTally
	for _, h := range hosts {
		t.Add(h)
	}
	a.printRisk(t)
}

func (a *app) printRisk(t report.RiskTally) {
	if line := t.Summary(); line != "" {
		fmt.Fprintf(a.streams.Err, "patchrun: risk: %s\n", line)
	}
}

// writeText prints a summary table per host, then the details a person
// needs: pending updates for scan and dry runs, output for exec, errors.
func writeText(w io.Writer, r report.Report, l layout) error {
	width := l.width
	if l.wide {
		width = 0
	}
	if l.riskOrder {
		r.Hosts = slices.Clone(r.Hosts)
		report.SortByRisk(r.Hosts)
	}
	var t table
	switch r.Command {
	case report.CmdFacts:
		t = factsTable(r, l.wide)
	case report.CmdExec:
		writeExecBlocks(w, r)
		t.cols = []column{{name: "HOST", min: 12, always: true}, {name: "STATUS", always: true}, {name: "EXIT", always: true},
			{name: "ERROR", min: 30, optional: true}}
		for _, h := range r.Hosts {
			exit := "-"
			if h.Exec != nil {
				exit = fmt.Sprint(h.Exec.ExitCode)
			}
			t.add(termtext.Line(h.Name), string(h.Status), exit, oneLine(h.Error, l.wide))
		}
	default:
		t.cols = []column{{name: "HOST", min: 12, always: true}, {name: "STATUS", always: true}, {name: "OS", min: 10},
			{name: "UPDATES", short: "UPD"}, {name: "SECURITY", short: "SEC"}, {name: "INSTALLED", short: "INST"},
			{name: "REBOOT"}, {name: "BATCH"}, {name: "BOOT ID"}}
		if l.wide {
			t.cols = append(t.cols, wideFactsColumns...)
		}
		t.cols = append(t.cols, column{name: "ERROR", min: 30, optional: true})
		for _, h := range r.Hosts {
			found, sec, inst := countUpdates(h.Updates)
			updates, security := fmt.Sprint(found), fmt.Sprint(sec)
			if !scanned(r, h) {
				// "0" would read as "clean" for a host never scanned.
				updates, security = "-", "-"
			}
			os := h.OS
			if !l.wide {
				os = shortOS(os)
			}
			row := []string{termtext.Line(h.Name), string(h.Status), dash(termtext.Line(os)), updates, security, installedCell(r, inst),
				rebootCell(r, h), batchCell(h), bootIDCell(h, l.wide)}
			if l.wide {
				row = append(row, wideFactsCells(r, h)...)
			}
			t.add(append(row, oneLine(h.Error, l.wide))...)
		}
	}
	widths, err := t.write(w, width, !l.wide)
	if err != nil {
		return err
	}
	if r.Command == report.CmdScan || r.DryRun || (l.detail && r.Command == report.CmdPatch) {
		writePending(w, r, l.detail)
	}
	if r.Command == report.CmdFacts {
		writeFactsReasons(w, r)
	}
	writeFailureOutput(w, r, widths["ERROR"])
	fmt.Fprintln(w)
	fmt.Fprintln(w, summaryLine(r))
	if r.Command == report.CmdScan {
		var risk report.RiskTally
		for _, h := range r.Hosts {
			risk.Add(h)
		}
		if line := risk.Summary(); line != "" {
			fmt.Fprintln(w, "risk: "+line)
		}
	}
	return nil
}

// writeFailureOutput shows, for each failed host, the full error and the
// last remote output the runner kept, so nobody has to re-run a failed
// install by hand to see why it failed. errorWidth is the table's ERROR
// column: an error that fitted there is not repeated.
func writeFailureOutput(w io.Writer, r report.Report, errorWidth int) {
	for _, h := range r.Hosts {
		if h.Status != report.StatusFailed && h.Status != report.StatusUnreachable {
			continue
		}
		shown := oneLine(h.Error, true)
		if len(h.Output) == 0 && shown == termtext.Line(strings.TrimSpace(h.Error)) && utf8.RuneCountInString(shown) <= errorWidth {
			continue // the table already shows all there is
		}
		fmt.Fprintf(w, "\n%s %s: %s\n", termtext.Line(h.Name), h.Status, termtext.Text(strings.TrimSpace(h.Error)))
		if n := len(h.Output); n > 0 {
			o := h.Output[n-1]
			head := "  " + o.Step
			if o.Command != "" {
				head += fmt.Sprintf(": %s", termtext.Line(o.Command))
			}
			if o.ExitCode >= 0 {
				head += fmt.Sprintf(" (exit %d)", o.ExitCode)
			}
			fmt.Fprintln(w, head)
			if o.Truncated {
				fmt.Fprintln(w, "    …")
			}
			for _, line := range strings.Split(strings.TrimRight(termtext.Text(o.Output), "\n"), "\n") {
				fmt.Fprintln(w, "    "+line)
			}
		}
	}
}

// scanned reports whether the host's update counts mean anything: `reboot`
// never scans, and a host that failed before its scan has none.
func scanned(r report.Report, h report.HostResult) bool {
	if r.Command == report.CmdReboot {
		return false
	}
	if len(h.Updates) > 0 || h.Status == report.StatusOK {
		return true
	}
	return h.Phase.AfterScan()
}

func countUpdates(us []report.Update) (found, security, installed int) {
	for _, u := range us {
		found++
		if u.Security {
			security++
		}
		if u.Installed {
			installed++
		}
	}
	return
}

func installedCell(r report.Report, n int) string {
	if r.Command == report.CmdScan || r.Command == report.CmdReboot || r.DryRun {
		return "-"
	}
	return fmt.Sprint(n)
}

func rebootCell(r report.Report, h report.HostResult) string {
	switch {
	case h.Rebooted:
		return "rebooted"
	case r.DryRun && h.WouldReboot:
		return "would reboot"
	case h.RebootRequired:
		return "required"
	}
	return "-"
}

func batchCell(h report.HostResult) string {
	if h.RebootBatch == 0 {
		return "-"
	}
	return fmt.Sprint(h.RebootBatch)
}

// bootIDCell shows the boot identity change that proves a reboot: the
// ids before and after, in full when wide; else the first characters of a
// Linux boot_id, or the time of a Windows host's new boot.
func bootIDCell(h report.HostResult, wide bool) string {
	if !h.Rebooted || h.BootIDBefore == "" {
		return "-"
	}
	if wide {
		return termtext.Line(h.BootIDBefore) + "→" + termtext.Line(h.BootIDAfter)
	}
	if t, err := time.Parse(time.RFC3339Nano, h.BootIDAfter); err == nil {
		return "→" + t.UTC().Format("15:04:05")
	}
	return termtext.Line(prefix(h.BootIDBefore, 4) + "→" + prefix(h.BootIDAfter, 4))
}

func prefix(s string, n int) string {
	if rs := []rune(s); len(rs) > n {
		return string(rs[:n])
	}
	return s
}

// shortOS shortens an OS name for the table: Windows product names lose
// "Microsoft", the build number and long edition names; the rest is kept.
func shortOS(s string) string {
	if !strings.Contains(s, "Windows") {
		return s
	}
	f := strings.Fields(strings.TrimPrefix(s, "Microsoft "))
	if n := len(f); n > 2 && isBuild(f[n-1]) {
		f = f[:n-1]
	}
	for i, w := range f {
		switch w {
		case "Datacenter":
			f[i] = "DC"
		case "Standard":
			f[i] = "Std"
		case "Enterprise":
			f[i] = "Ent"
		}
	}
	return strings.Join(f, " ")
}

func isBuild(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) >= 4
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a multi-line error from breaking the table, and escapes
// what a terminal would act on; unless wide, a long line is cut at 120
// characters. The full text is under the table and in the JSON output.
func oneLine(s string, wide bool) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	s = termtext.Line(s)
	if !wide {
		s = cut(s, 120)
	}
	return s
}

// writePending lists each host's updates (scan, dry run, patch -v): with
// detail, each one's advisory, issue date, CVEs, known-exploited due date
// and EPSS, and why the selection held it back.
func writePending(w io.Writer, r report.Report, detail bool) {
	for _, h := range r.Hosts {
		if len(h.Updates) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", termtext.Line(h.Name))
		wouldInstall := map[string]bool{}
		for _, name := range h.WouldInstall {
			wouldInstall[name] = true
		}
		for _, u := range h.Updates {
			name := u.Name
			if u.KB != "" && !strings.Contains(name, u.KB) {
				name = u.KB + " " + name
			}
			line := "  " + name
			if u.Current != "" || u.Available != "" {
				line += fmt.Sprintf("  %s → %s", dash(u.Current), dash(u.Available))
			}
			var tags []string
			if wouldInstall[u.Name] {
				tags = append(tags, "would install")
			}
			if u.Installed {
				tags = append(tags, "installed")
			}
			if u.Security {
				tags = append(tags, "security")
			}
			if u.Severity != "" {
				tags = append(tags, strings.ToLower(u.Severity))
			}
			if u.KnownExploited {
				tags = append(tags, "KNOWN EXPLOITED")
			}
			if u.Optional {
				tags = append(tags, "optional")
			}
			if u.RebootRequired {
				tags = append(tags, "needs reboot")
			}
			if len(tags) > 0 {
				line += "  [" + strings.Join(tags, ", ") + "]"
			}
			fmt.Fprintln(w, termtext.Line(line))
			if detail {
				for _, d := range updateDetail(u) {
					fmt.Fprintln(w, "      "+termtext.Line(d))
				}
			}
		}
		for _, step := range h.WouldRun {
			fmt.Fprintln(w, termtext.Line("  would run "+step))
		}
	}
}

// maxCVEsShown bounds the CVE ids -v prints per update (a kernel advisory
// can fix hundreds); the JSON report has them all.
const maxCVEsShown = 8

// updateDetail is -v's lines under an update.
func updateDetail(u report.Update) []string {
	var out []string
	var adv []string
	if u.Advisory != "" && u.Advisory != u.KB {
		adv = append(adv, u.Advisory)
	}
	if u.Issued != nil {
		adv = append(adv, "issued "+u.Issued.UTC().Format(time.DateOnly))
	}
	if u.VendorSeverity != "" && !strings.EqualFold(u.VendorSeverity, u.Severity) {
		adv = append(adv, "vendor severity "+u.VendorSeverity)
	}
	if u.KnownExploited && u.KEVDue != "" {
		adv = append(adv, "known-exploited due "+u.KEVDue)
	}
	if u.EPSS > 0 {
		adv = append(adv, fmt.Sprintf("EPSS %.2f", u.EPSS))
	}
	if len(adv) > 0 {
		out = append(out, strings.Join(adv, ", "))
	}
	if n := len(u.CVEs); n > 0 {
		shown := u.CVEs[:min(n, maxCVEsShown)]
		line := strings.Join(shown, " ")
		if n > len(shown) {
			line += fmt.Sprintf(" (+%d more)", n-len(shown))
		}
		out = append(out, line)
	}
	if u.HeldBack != "" {
		out = append(out, "held back: "+u.HeldBack)
	}
	return out
}

// writeExecBlocks prints each host's command output under a header.
func writeExecBlocks(w io.Writer, r report.Report) {
	for _, h := range r.Hosts {
		if h.Exec == nil {
			continue
		}
		fmt.Fprintf(w, "=== %s (exit %d)\n", termtext.Line(h.Name), h.Exec.ExitCode)
		if h.Exec.Stdout != "" {
			fmt.Fprint(w, ensureNewline(termtext.Text(h.Exec.Stdout)))
		}
		if h.Exec.Stderr != "" {
			fmt.Fprintln(w, "--- stderr")
			fmt.Fprint(w, ensureNewline(termtext.Text(h.Exec.Stderr)))
		}
		if h.Exec.Truncated {
			fmt.Fprintln(w, "--- output truncated")
		}
	}
	fmt.Fprintln(w)
}

func ensureNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}

func summaryLine(r report.Report) string {
	s := r.Summary
	line := fmt.Sprintf("%d hosts: %d ok, %d failed, %d unreachable, %d skipped", s.Hosts, s.OK, s.Failed, s.Unreachable, s.Skipped)
	switch r.Command {
	case report.CmdScan:
		line += fmt.Sprintf("; %d updates pending", s.UpdatesFound)
	case report.CmdFacts:
		n := 0
		for _, h := range r.Hosts {
			if h.Facts != nil && h.Facts.RebootRequired {
				n++
			}
		}
		line += fmt.Sprintf("; %d need a reboot", n)
	case report.CmdPatch:
		if r.DryRun {
			would, reboots := 0, 0
			for _, h := range r.Hosts {
				would += len(h.WouldInstall)
				if h.WouldReboot {
					reboots++
				}
			}
			line += fmt.Sprintf("; dry run: %d of %d updates would be installed, %d hosts would reboot; nothing changed", would, s.UpdatesFound, reboots)
		} else {
			line += fmt.Sprintf("; %d updates found, %d installed", s.UpdatesFound, s.UpdatesInstalled)
			if s.UpdatesUnknown > 0 {
				// A lost connection hid how their install ended: they may be in.
				line += fmt.Sprintf(", %d of unknown outcome", s.UpdatesUnknown)
			}
			line += fmt.Sprintf("; %d rebooted", s.Rebooted)
		}
	case report.CmdReboot:
		if r.DryRun {
			would := 0
			for _, h := range r.Hosts {
				if h.WouldReboot {
					would++
				}
			}
			line += fmt.Sprintf("; dry run: %d hosts would reboot; nothing changed", would)
		} else {
			line += fmt.Sprintf("; %d rebooted", s.Rebooted)
		}
	}
	if r.Halted {
		line += "\nhalted: the failure budget was spent; hosts marked skipped were not rebooted"
	}
	if r.Interrupted {
		line += "\ninterrupted: hosts marked skipped were not started or not rebooted"
	}
	return line
}
