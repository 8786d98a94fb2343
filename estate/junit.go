package estate

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/patchrun/patchrun/report"
)

// JUnit XML, as CI systems read it: <testsuites> holding one <testsuite>
// per run and one <testcase> per host.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	ID         int             `xml:"id,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%.3f", d.Seconds())
}

func span(start, end *time.Time) time.Duration {
	if start == nil || end == nil {
		return 0
	}
	return end.Sub(*start)
}

// xmlText drops what XML 1.0 cannot carry (control characters other
// than tab, newline and carriage return), so remote output cannot make
// the file unreadable.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF):
			return -1
		}
		return r
	}, s)
}

// WriteJUnit writes r as JUnit XML: a failed or unreachable host is a
// <failure> (type = its error_kind, message = its error, the output
// excerpt as the body), a skipped host <skipped/>.
func WriteJUnit(w io.Writer, r *Report) error {
	doc := junitSuites{Name: "patchrun"}
	var total time.Duration
	for i, run := range r.Runs {
		s := junitSuite{Name: fmt.Sprintf("patchrun %s %s", run.Command, run.ID), ID: i, Tests: len(run.Hosts),
			Timestamp: run.StartedAt.UTC().Format("2006-01-02T15:04:05"), Hostname: "patchrun",
			Properties: []junitProperty{{"run_id", run.ID}, {"command", string(run.Command)}, {"state", run.State}}}
		if run.DryRun {
			s.Properties = append(s.Properties, junitProperty{"dry_run", "true"})
		}
		if run.HaltedBy != "" {
			s.Properties = append(s.Properties, junitProperty{"halted_by", run.HaltedBy})
		}
		d := span(&run.StartedAt, run.EndedAt)
		total += d
		s.Time = seconds(d)
		for _, h := range run.Hosts {
			c := junitCase{Name: h.Name, Classname: xmlText(h.Class()), Time: seconds(span(h.StartedAt, h.FinishedAt)),
				SystemOut: xmlText(summaryLine(h))}
			switch h.Status {
			case report.StatusFailed, report.StatusUnreachable:
				kind := h.ErrorKind
				if kind == "" {
					kind = string(h.Status)
				}
				body := h.Error
				if h.FailedPhase != "" {
					body = fmt.Sprintf("%s (in %s)", body, h.FailedPhase)
				}
				if h.Output != "" {
					body += "\n\n" + h.Output
				}
				c.Failure = &junitFailure{Message: xmlText(h.Error), Type: xmlText(kind), Body: xmlText(body)}
				s.Failures++
			case report.StatusSkipped:
				c.Skipped = &junitSkipped{Message: xmlText(h.Error)}
				s.Skipped++
			}
			s.Cases = append(s.Cases, c)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// summaryLine says in one line what the run did on a host.
func summaryLine(h Host) string {
	sec := 0
	for _, u := range h.Pending {
		if u.Security {
			sec++
		}
	}
	s := fmt.Sprintf("%s: %s, %d installed, %d pending (%d security)", h.Name, h.Status, len(h.Installed), len(h.Pending), sec)
	if h.Rebooted {
		s += ", rebooted"
	}
	if h.RebootPending {
		s += ", reboot pending"
	}
	for _, l := range []struct {
		what string
		ups  []Update
	}{{"installed", h.Installed}, {"pending", h.Pending}} {
		for _, u := range l.ups {
			s += "\n" + l.what + " " + updateLine(u)
		}
	}
	return s
}

// updateLine is one update with its risk data, for a CI log: name,
// versions, KB, severity, CVEs and the known-exploited flag.
func updateLine(u Update) string {
	s := u.Name
	if u.Current != "" || u.Available != "" {
		s += " " + u.Current + " -> " + u.Available
	}
	if u.KB != "" {
		s += " " + u.KB
	}
	if u.Severity != "" {
		s += " [" + u.Severity + "]"
	}
	if len(u.CVEs) > 0 {
		s += " " + strings.Join(u.CVEs, " ")
	}
	if u.KnownExploited {
		s += " KNOWN-EXPLOITED"
	}
	return s
}
