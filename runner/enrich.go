package runner

import (
	"context"

	"github.com/patchrun/patchrun/patch"
)

// Enricher adds risk data from files to a host's scan (package advisory).
// It is called from many workers at once and must be safe for concurrent
// use.
type Enricher interface {
	// WantsPackages: Enrich needs the installed packages of the host
	// these facts describe, read with one more command (from backends that
	// are a patch.PackageLister).
	WantsPackages(f patch.Facts) bool
	// Enrich returns the updates with their risk fields filled, and the
	// installed packages that are vulnerable with no pending update.
	Enrich(f patch.Facts, installed []patch.Package, updates []patch.Update) ([]patch.Update, []patch.Vulnerable)
}

// enrich runs the Enricher on a scan's updates. The installed packages are
// read once, at the host's first scan, and the vulnerable packages are
// those of the first scan (a rescan after an install would test the
// packages' old versions).
func (h *hostRun) enrich(ctx context.Context, found []patch.Update) ([]patch.Update, error) {
	e := h.r.deps.Enricher
	if e == nil {
		return found, nil
	}
	first := !h.enriched
	if first && e.WantsPackages(h.facts) {
		if lister, ok := h.be.(patch.PackageLister); ok {
			err := h.step(ctx, "packages", h.r.cfg.StepTimeout, func(c context.Context) error {
				var err error
				h.packages, err = lister.InstalledPackages(c, h.t)
				return err
			})
			if err != nil {
				return nil, err
			}
		}
	}
	found, vulnerable := e.Enrich(h.facts, h.packages, found)
	if first {
		h.res.Vulnerable = vulnerable
		h.enriched = true
	}
	return found, nil
}
