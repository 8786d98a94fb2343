package runner

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// listingBackend is a fake backend that can list installed packages.
type listingBackend struct {
	patch.Backend
	mu    *sync.Mutex
	lists *int
}

func (b listingBackend) InstalledPackages(ctx context.Context, t transport.Transport) ([]patch.Package, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	*b.lists++
	return []patch.Package{{Name: "openssl", Version: "1"}, {Name: "sudo", Version: "1.9"}}, nil
}

// cveEnricher flags openssl with a known-exploited CVE and reports sudo
// vulnerable, and records what it was given.
type cveEnricher struct {
	mu    sync.Mutex
	calls int
	seen  []patch.Package
	os    string
}

func (e *cveEnricher) WantsPackages(patch.Facts) bool { return true }

func (e *cveEnricher) Enrich(f patch.Facts, installed []patch.Package, updates []patch.Update) ([]patch.Update, []patch.Vulnerable) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	e.seen, e.os = installed, f.OS
	out := slices.Clone(updates)
	for i := range out {
		if out[i].Name == "openssl" {
			out[i].CVEs, out[i].KnownExploited = []string{"CVE-2025-0001"}, true
		}
	}
	return out, []patch.Vulnerable{{Name: "sudo", Version: "1.9", CVEs: []string{"CVE-2025-0002"}}}
}

// The enricher sees every scan (the first and the rescan after the
// reboot), the installed packages are listed once per host, and the
// report carries the risk data and the vulnerable packages.
func TestEnricherAddsRiskDataToEveryScan(t *testing.T) {
	f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("openssl", true, true), upd("curl", false, false)}})
	var mu sync.Mutex
	lists := 0
	e := &cveEnricher{}
	plan := fastPlan(report.CmdPatch, f)
	plan.Reboot = RebootIfRequired
	deps := f.deps()
	deps.Detect = func(ctx context.Context, h inventory.Host, t transport.Transport) (patch.Backend, error) {
		be, err := f.detect(ctx, h, t)
		return listingBackend{be, &mu, &lists}, err
	}
	deps.Enricher = e
	deps.Observer = newRecorder(t)
	rep, err := Run(context.Background(), plan, deps)
	if err != nil {
		t.Fatal(err)
	}
	h := byName(rep)["a"]
	if h.Status != report.StatusOK || !h.Rebooted {
		t.Fatalf("host: %s %s rebooted=%v", h.Status, h.Error, h.Rebooted)
	}
	var ssl report.Update
	for _, u := range h.Updates {
		if u.Name == "openssl" {
			ssl = u
		}
	}
	if !ssl.KnownExploited || !slices.Equal(ssl.CVEs, []string{"CVE-2025-0001"}) || !ssl.Installed {
		t.Errorf("openssl in the report: %+v", ssl)
	}
	if len(h.Vulnerable) != 1 || h.Vulnerable[0].Name != "sudo" {
		t.Errorf("vulnerable = %+v, want sudo", h.Vulnerable)
	}
	if e.calls < 2 || lists != 1 || len(e.seen) != 2 || e.os == "" {
		t.Errorf("enricher called %d times (want the scan and the rescan), packages listed %d times (want 1), saw %d packages, os %q",
			e.calls, lists, len(e.seen), e.os)
	}
}

// Without an Enricher no package list is read.
func TestNoEnricherNoPackageList(t *testing.T) {
	f := newFleet(t, &fakeHost{name: "a", pending: []patch.Update{upd("openssl", true, false)}})
	var mu sync.Mutex
	lists := 0
	deps := f.deps()
	deps.Detect = func(ctx context.Context, h inventory.Host, t transport.Transport) (patch.Backend, error) {
		be, err := f.detect(ctx, h, t)
		return listingBackend{be, &mu, &lists}, err
	}
	deps.Observer = newRecorder(t)
	rep, err := Run(context.Background(), fastPlan(report.CmdScan, f), deps)
	if err != nil {
		t.Fatal(err)
	}
	if lists != 0 || byName(rep)["a"].Vulnerable != nil {
		t.Errorf("listed packages %d times without an enricher", lists)
	}
}
