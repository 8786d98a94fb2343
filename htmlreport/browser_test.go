package htmlreport

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/patchrun/patchrun/estate"
	"github.com/patchrun/patchrun/estate/estatetest"
	"github.com/patchrun/patchrun/report"
)

// The browser tests open a written report in a real headless Chromium
// (Debian's chromium package) through the DevTools protocol.

// chromiumPath finds a Chromium to drive: the test skips without one,
// except under CI, where it fails (CI installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no chromium in PATH: the HTML report's browser test needs it (Debian: apt-get install chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browserPage is a report opened in a headless Chromium tab.
type browserPage struct {
	ctx context.Context
	url string

	mu         sync.Mutex
	requests   []string // every URL the page asked for
	exceptions []string // uncaught script errors
}

// startBrowser starts one headless Chromium for a test and its subtests;
// it is stopped when the test ends.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	bin := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	if err := chromedp.Do(bctx); err != nil { // the first Run starts the browser
		t.Fatalf("starting %s: %v", bin, err)
	}
	return bctx
}

// openPage opens path in a new tab of the browser, with the listeners
// attached before the page loads so they see every request it makes;
// before is run on the tab first.
func openPage(t *testing.T, browser context.Context, path string, before ...chromedp.Action[chromedp.Void]) *browserPage {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, before...); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &browserPage{ctx: ctx, url: (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()}
	if err := chromedp.Listen(ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			p.requests = append(p.requests, ev.Request.URL)
		case *runtime.EventExceptionThrown:
			p.exceptions = append(p.exceptions, ev.ExceptionDetails.Text)
		}
	}); err != nil {
		t.Fatal(err)
	}
	step, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	if err := chromedp.Do(step, chromedp.Navigate(p.url), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("loading %s: %v", p.url, err)
	}
	return p
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, p *browserPage, expr string) T {
	t.Helper()
	ctx, stop := context.WithTimeout(p.ctx, 30*time.Second)
	defer stop()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// do runs actions on the page.
func (p *browserPage) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, stop := context.WithTimeout(p.ctx, 30*time.Second)
	defer stop()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// foreignRequests is every request the page made for anything but its
// own file.
func (p *browserPage) foreignRequests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, u := range p.requests {
		if u != p.url {
			out = append(out, u)
		}
	}
	return out
}

func (p *browserPage) scriptErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.exceptions...)
}

// screenshot keeps a full-page PNG of the page under $CI_ARTIFACTS, else
// in the test's temporary directory, and returns its path.
func (p *browserPage) screenshot(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("CI_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithTimeout(p.ctx, time.Minute)
	defer stop()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// TestBrowser opens HTML reports in one headless Chromium.
func TestBrowser(t *testing.T) {
	browser := startBrowser(t)
	t.Run("listener sees requests", func(t *testing.T) { testListenerSeesRequests(t, browser) })
	t.Run("newest run", func(t *testing.T) { testNewestRun(t, browser) })
	t.Run("patch run", func(t *testing.T) { testPatchRun(t, browser) })
	t.Run("script off", func(t *testing.T) { testScriptOff(t, browser) })
	t.Run("natural sort", func(t *testing.T) { testNaturalSort(t, browser) })
}

// testListenerSeesRequests proves the network listener the report tests
// rely on: a page that loads an image from the network is caught.
func testListenerSeesRequests(t *testing.T, browser context.Context) {
	path := filepath.Join(t.TempDir(), "leaky.html")
	if err := os.WriteFile(path, []byte(`<!DOCTYPE html><title>leaky</title><img src="http://127.0.0.1:9/pixel.png">`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := openPage(t, browser, path) // returns once the page has loaded, image included
	got := p.foreignRequests()
	if len(got) != 1 || !strings.HasPrefix(got[0], "http://127.0.0.1:9/") {
		t.Fatalf("requests seen = %q, want the one image request", got)
	}
}

// writeReport writes r's page to a file of its own.
func writeReport(t *testing.T, r *estate.Report) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(f, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// rowInfo is what the technician page shows of one host row.
type rowInfo struct {
	Name      string   `json:"name"`
	Timelines int      `json:"timelines"`
	Spans     int      `json:"spans"`
	Marks     []string `json:"marks"`
	Visible   bool     `json:"visible"`
}

func hostRows(t *testing.T, p *browserPage) []rowInfo {
	t.Helper()
	return eval[[]rowInfo](t, p, `Array.from(document.querySelectorAll('#hosts tbody.host'), function(b){
		return {name: b.getAttribute('data-name'), timelines: b.querySelectorAll('svg.timeline').length,
			spans: b.querySelectorAll('svg.timeline rect').length,
			marks: Array.from(b.querySelectorAll('svg.timeline .mk text'), function(m){return m.textContent}),
			visible: b.offsetParent !== null}})`)
}

// checkClean fails the test if the page threw a script error or asked
// for anything but its own file.
func checkClean(t *testing.T, p *browserPage) {
	t.Helper()
	if errs := p.scriptErrors(); len(errs) > 0 {
		t.Errorf("script errors: %q", errs)
	}
	if reqs := p.foreignRequests(); len(reqs) > 0 {
		t.Errorf("the page made network requests: %q", reqs)
	}
}

// testNewestRun opens the report of the fixture's newest run and checks
// what a reader sees: the management figures are the fixture's, one row
// and one timeline per host, the text filter hides the rows that do not
// match, sorting reorders them, no script error, and the page asked for
// nothing but its own file.
func testNewestRun(t *testing.T, browser context.Context) {
	r := fixtureReport(t, estate.Selection{Last: true})
	p := openPage(t, browser, writeReport(t, r))
	defer func() { p.screenshot(t, "html-report.png") }()

	// The management page shows the fixture's figures (as the estate
	// package counts them, and as the fixture documents them).
	metric := func(name string) string {
		t.Helper()
		return eval[string](t, p, `(function(){var e=document.querySelector('#management [data-metric="`+name+`"]');return e?e.textContent.trim():"missing"})()`)
	}
	m := r.Management
	want := map[string]string{
		"compliance-pct":   strconv.FormatFloat(estatetest.CompliancePercent, 'f', -1, 64) + "%",
		"compliant":        strconv.Itoa(estatetest.Compliant),
		"hosts":            strconv.Itoa(estatetest.Hosts),
		"pending-security": strconv.Itoa(estatetest.PendingSecurity),
		"reboot":           strconv.Itoa(len(m.RebootNeeded)),
		"failures":         strconv.Itoa(len(m.Failures)),
		"unreachable":      "1",
		"newly-failing":    strconv.Itoa(len(r.Changes.NewlyFailing)),
		"newly-compliant":  strconv.Itoa(len(r.Changes.NewlyCompliant)),
	}
	for _, b := range m.AgeBands {
		name := fmt.Sprintf("age-%d-%d", b.MinDays, b.MaxDays)
		if b.MaxDays < 0 {
			name = fmt.Sprintf("age-%d-", b.MinDays)
		}
		want[name] = strconv.Itoa(b.Updates)
	}
	if len(m.AgeBands) != 4 || len(m.RebootNeeded) != 1 || len(m.Failures) != 1 {
		t.Fatalf("the fixture changed under the test: %+v", m)
	}
	for name, w := range want {
		if got := metric(name); got != w {
			t.Errorf("management page: %s shows %q, want %q", name, got, w)
		}
	}
	if got := eval[[]string](t, p, `Array.from(document.querySelectorAll('#management tr[data-os]'), function(tr){return tr.getAttribute('data-os')+'='+tr.querySelector('[data-metric="os-hosts"]').textContent+'/'+tr.querySelector('[data-metric="os-security"]').textContent})`); len(got) != len(m.ByOS) {
		t.Errorf("by OS rows %q, want %d", got, len(m.ByOS))
	} else {
		for i, o := range m.ByOS {
			if w := fmt.Sprintf("%s=%d/%d", o.OS, o.Hosts, o.PendingSecurity); got[i] != w {
				t.Errorf("by OS row %d = %q, want %q", i, got[i], w)
			}
		}
	}

	// The technician page: one row per host, each with exactly one
	// timeline that has drawn phases.
	rows := func() []rowInfo { return hostRows(t, p) }
	all := rows()
	if count := eval[string](t, p, `document.querySelector('#technician [data-metric="host-count"]').textContent`); count != strconv.Itoa(estatetest.Hosts) || len(all) != estatetest.Hosts {
		t.Fatalf("technician page: count %q and %d host rows, want %d", count, len(all), estatetest.Hosts)
	}
	for _, row := range all {
		if row.Timelines != 1 || row.Spans == 0 || !row.Visible {
			t.Errorf("host %s: %d timelines with %d phases (visible %v), want one with phases", row.Name, row.Timelines, row.Spans, row.Visible)
		}
	}

	// Typing in the filter hides the rows that do not match: a host
	// name, then a KB number only win1 has pending, then nothing.
	typed := ""
	filter := func(text string) []string {
		t.Helper()
		// erase what was typed before, then type, key by key
		p.do(t, chromedp.SendKeys(chromedp.CSS("#filter"), strings.Repeat(kb.Backspace, len(typed))+text))
		typed = text
		var shown []string
		for _, row := range rows() {
			if row.Visible {
				shown = append(shown, row.Name)
			}
		}
		return shown
	}
	if got := filter("web"); strings.Join(got, ",") != "web1,web2" {
		t.Errorf(`filter "web" shows %q, want web1,web2`, got)
	}
	if got := filter("KB5033000"); strings.Join(got, ",") != "win1" {
		t.Errorf(`filter "KB5033000" shows %q, want win1`, got)
	}
	if got := filter("no-such-host"); len(got) != 0 || !eval[bool](t, p, `!document.getElementById('nomatch').hidden`) {
		t.Errorf(`filter "no-such-host" shows %q and no "no host matches" line`, got)
	}
	if got := filter(""); len(got) != estatetest.Hosts {
		t.Errorf("an empty filter shows %q, want every host", got)
	}

	// A click on a column head sorts by it; a second click reverses.
	order := func() string {
		var names []string
		for _, row := range rows() {
			names = append(names, row.Name)
		}
		return strings.Join(names, ",")
	}
	p.do(t, chromedp.Click(chromedp.CSS(`#hosts th[data-key="security"]`)))
	if got := order(); !strings.HasSuffix(got, "win1") {
		t.Errorf("sorted by pending security updates (ascending): %s, want win1 last", got)
	}
	p.do(t, chromedp.Click(chromedp.CSS(`#hosts th[data-key="security"]`)))
	if got := order(); !strings.HasPrefix(got, "win1") {
		t.Errorf("sorted by pending security updates (descending): %s, want win1 first", got)
	}

	checkClean(t, p)
}

// testPatchRun opens the report of the fixture's patch run: each host's
// timeline marks its rollout wave, and web1's its reboot batch, with the
// reboot drawn after the mark.
func testPatchRun(t *testing.T, browser context.Context) {
	r := fixtureReport(t, estate.Selection{RunID: estatetest.RunPatch})
	p := openPage(t, browser, writeReport(t, r))
	shot := false // taken on screen media, before the print check below
	defer func() {
		if !shot {
			p.screenshot(t, "html-report-patch.png")
		}
	}()
	want := map[string]string{"db1": "W2", "web1": "W1 B1", "web2": "W1", "win1": "W2"}
	rows := hostRows(t, p)
	if len(rows) != len(want) {
		t.Fatalf("%d host rows, want %d", len(rows), len(want))
	}
	for _, row := range rows {
		if got := strings.Join(row.Marks, " "); row.Timelines != 1 || got != want[row.Name] {
			t.Errorf("host %s: %d timelines marked %q, want one marked %q", row.Name, row.Timelines, got, want[row.Name])
		}
	}
	// The reboot phases of web1 start at its batch mark.
	xs := eval[[]float64](t, p, `(function(){var b=document.getElementById('host-web1');
		var mk=Array.from(b.querySelectorAll('.mk')).filter(function(g){return g.querySelector('text').textContent==='B1'})[0];
		var down=b.querySelector('rect.ph-down');
		return mk&&down?[+mk.querySelector('line').getAttribute('x1'), +down.getAttribute('x')]:[]})()`)
	if len(xs) != 2 || xs[0] != xs[1] {
		t.Errorf("web1's batch mark and reboot start at %v, want the same x", xs)
	}
	// Printed, every host's details show, closed or not; on screen,
	// only the failing web2's are open.
	media := func(m string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
			return err
		})
	}
	detailsShown := func() []bool {
		return eval[[]bool](t, p, `Array.from(document.querySelectorAll('#hosts tbody.host .dgrid'), function(d){return d.checkVisibility()})`)
	}
	if shown := detailsShown(); !slices.Equal(shown, []bool{false, false, true, false}) {
		t.Errorf("on screen, details shown for db1, web1, web2, win1: %v, want web2's only", shown)
	}
	p.screenshot(t, "html-report-patch.png")
	shot = true
	p.do(t, media("print"))
	if shown := detailsShown(); len(shown) != len(want) || slices.Contains(shown, false) {
		t.Errorf("printed, host details shown: %v, want all %d", shown, len(want))
	}
	checkClean(t, p)
}

// testScriptOff opens the newest run's report with scripts disabled: it
// still reads: every host row with its timeline, the failing host's
// details open, the figures in place, and the controls that need the
// script (expand all) left hidden.
func testScriptOff(t *testing.T, browser context.Context) {
	r := fixtureReport(t, estate.Selection{Last: true})
	noScript := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	p := openPage(t, browser, writeReport(t, r), noScript)
	if ran := eval[bool](t, p, `!document.getElementById('expand').hidden`); ran {
		t.Fatal("the page's script ran: scripts are not disabled")
	}
	rows := hostRows(t, p)
	if len(rows) != estatetest.Hosts {
		t.Fatalf("%d host rows, want %d", len(rows), estatetest.Hosts)
	}
	for _, row := range rows {
		if !row.Visible || row.Timelines != 1 || row.Spans == 0 {
			t.Errorf("host %s without script: visible %v, %d timelines, %d phases", row.Name, row.Visible, row.Timelines, row.Spans)
		}
	}
	if open := eval[bool](t, p, `document.querySelector('#host-db1 details').open && document.querySelector('#host-db1 .errbox').offsetHeight > 0`); !open {
		t.Error("the unreachable db1's details (its error) are not shown open")
	}
	if got := eval[string](t, p, `document.querySelector('[data-metric="compliance-pct"]').textContent`); got != "50%" {
		t.Errorf("compliance without script: %q, want 50%%", got)
	}
	checkClean(t, p)
}

// testNaturalSort: sorting by host reads numbers as people do (web2
// before web10), where the page's own order is the byte order.
func testNaturalSort(t *testing.T, browser context.Context) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	end := at.Add(time.Minute)
	run := estate.Run{ID: "20261201T100000Z-sort", Command: report.CmdScan, StartedAt: at, EndedAt: &end, State: "finished"}
	for _, n := range []string{"web10", "web2", "Web3", "web1"} {
		run.Hosts = append(run.Hosts, estate.Host{Name: n, Status: report.StatusOK,
			Timeline: []estate.Segment{{Phase: report.PhaseScanning, Start: at, End: end}}})
	}
	p := openPage(t, browser, writeReport(t, &estate.Report{AsOf: end, Runs: []estate.Run{run}}))
	names := func() string {
		var out []string
		for _, row := range hostRows(t, p) {
			out = append(out, row.Name)
		}
		return strings.Join(out, " ")
	}
	if got := names(); got != "Web3 web1 web10 web2" {
		t.Fatalf("page order %q, want the bytes' order", got)
	}
	p.do(t, chromedp.Click(chromedp.CSS(`#hosts th[data-key="name"]`)))
	if got := names(); got != "web1 web2 Web3 web10" {
		t.Errorf("sorted by host: %q, want web1 web2 Web3 web10", got)
	}
	checkClean(t, p)
}
