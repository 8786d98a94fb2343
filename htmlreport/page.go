package htmlreport

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
)

//go:embed page.html.tmpl
var pageSource string

//go:embed style.css
var styleSource string

//go:embed script.js
var scriptSource string

var pageTemplate = template.Must(template.New("page").Parse(pageSource))

// page is what the template shows: every figure already counted, every
// chart already laid out, every time already formatted.
type page struct {
	Title      string
	CSP        string
	CSS        template.CSS
	JS         template.JS
	Run        runInfo
	Management management
	Hosts      []hostRow
	HostCount  int
	Axis       []tick // the shared time axis; nil when rows are of several runs
	AxisWidth  string
	Legend     []struct{ Class, Label string }
}

type runInfo struct {
	ID, FirstID, Command, Started, Finished, Duration, Generated string
	Runs                                                         int
	DryRun, Interrupted                                          bool
	HaltedBy                                                     string
}

type management struct {
	Hosts, Compliant, Unscanned  int
	CompliancePct                string
	ComplianceClass              string
	PendingSecurity, OverMonth   int
	Bands                        barChart
	ByOS                         []osRow
	Reboot                       []hostRef
	Failures                     []failure
	Failed, Unreachable          int
	Trend                        *trendChart
	TrendRuns                    int
	NewlyFailing, NewlyCompliant []hostRef
}

type osRow struct {
	OS              string
	Hosts, Security int
}

type hostRef struct {
	Name, Anchor, Note, Since string
}

type failure struct {
	Host, Anchor, RunID, Status, Kind, Error string
}

type hostRow struct {
	Name, Anchor, Address, OS, Status, StatusClass string
	RunID                                          string // the run the row is from, when the report has several
	Kind, Phase, Error                             string
	Pending, PendingSecurity, Installed            int
	Unscanned                                      bool   // no scan reached the host in this run
	Reboot                                         string // "required", "rebooted", ""
	Batch                                          int
	Facts                                          []fact
	Updates                                        []updateRow
	Output                                         string
	Timeline                                       timeline
	Summary                                        string // the details line
}

type fact struct{ Key, Value string }

type updateRow struct {
	Name, Current, Available, KB, Severity, SevClass, State, StateClass, Error string
	CVEs                                                                       []string
	KnownExploited, Security                                                   bool
}

// contentSecurityPolicy allows the page's own inline style and script
// (by hash) and nothing else: no request can leave the page, whatever a
// host's text says.
func contentSecurityPolicy() string {
	return "default-src 'none'; style-src " + hashOf(styleSource) + "; script-src " + hashOf(scriptSource) +
		"; img-src data:; base-uri 'none'; form-action 'none'"
}

// hashOf is a CSP source expression for an inline element's text.
func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func render(w io.Writer, p page) error {
	p.CSP = contentSecurityPolicy()
	p.CSS = template.CSS(styleSource)
	p.JS = template.JS(scriptSource)
	p.Legend = legend
	return pageTemplate.Execute(w, p)
}
