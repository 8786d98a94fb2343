package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// install runs one install round for updates and refreshes the host's
// reboot-required state. It returns false when the host has ended.
func (h *hostRun) install(ctx context.Context, updates []patch.Update) bool {
	h.enter(report.PhaseInstalling)
	cfg := &h.r.cfg
	var ir patch.InstallResult
	err := h.installStep(ctx, fmt.Sprintf("install round %d: %d updates", h.res.Rounds+1, len(updates)), cfg.installTimeout,
		&ir.Output, func(c context.Context) error {
			var err error
			ir, err = h.installDetached(c, updates, cfg.fullUpgrade())
			return err
		})
	h.res.Rounds++
	// Keep what the backend reported even when it failed: never lose data
	// about what changed on a host.
	h.mergeInstalled(ir.Updates)
	if err != nil {
		if outcomeUnknown(ctx, err) {
			err = fmt.Errorf("%w; %s", err, h.recheckInstall(ctx, updates))
		}
		h.fail(ctx, "install", err)
		return false
	}

	var required bool
	var reasons []string
	// The install may have restarted sshd or dropped the link: the check is
	// read-only, so a redial is safe.
	err = h.withRedial(ctx, func(t transport.Transport) error {
		return h.step(ctx, "reboot-required check", cfg.StepTimeout, func(c context.Context) error {
			var err error
			required, reasons, err = h.be.RebootRequired(c, t)
			return err
		})
	})
	if err != nil {
		h.fail(ctx, "check reboot-required after install", err)
		return false
	}
	if ir.RebootRequired && !required {
		reasons = append(reasons, "installer reported a reboot is required")
	}
	h.res.RebootRequired = required || ir.RebootRequired
	h.res.RebootReasons = reasons
	return true
}

// outcomeUnknown reports whether a failed install's outcome is unknown: the
// connection was lost, the step timed out or the run was aborted while it
// ran, so nobody saw how it ended. A package manager that ran and failed
// (patch.ErrCommandFailed) reported its own outcome.
func outcomeUnknown(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, errStepTimeout) ||
		(transport.Kind(err) != "" && !errors.Is(err, patch.ErrCommandFailed))
}

// recheckInstall finds out what an install whose end nobody saw did: it
// reconnects and rescans (read-only, so safe to retry), marking each update
// of the round installed or still pending. When that is impossible (the
// run was aborted, or the host cannot be reached or scanned) it marks the
// round's undecided updates OutcomeUnknown instead, so the report never
// claims they were not installed. It returns a note for the host's error.
func (h *hostRun) recheckInstall(ctx context.Context, updates []patch.Update) string {
	if ctx.Err() == nil {
		var found []patch.Update
		err := h.withRedial(ctx, func(t transport.Transport) error {
			return h.step(ctx, "rescan after an install with no known outcome", h.r.cfg.StepTimeout, func(c context.Context) error {
				var err error
				found, err = h.be.Scan(c, t)
				return err
			})
		})
		if err == nil {
			still := stillPending(found)
			installed := 0
			for _, u := range updates {
				i := h.indexForOutcome(u)
				if i < 0 {
					continue
				}
				r := &h.res.Updates[i]
				if still(r.Update) {
					r.Installed, r.Error = false, "still pending after the install's connection was lost"
					continue
				}
				r.Installed, r.Error = true, ""
				h.installed[updateKey(r.Update)] = true
				installed++
			}
			h.pending = found
			h.mergeFound(found)
			return fmt.Sprintf("reconnected and rescanned: %d of %d updates installed", installed, len(updates))
		}
		h.logf(err, "rescan after an install with no known outcome")
		defer func() { h.failedStep = nil }() // the install round's output explains more than the rescan's
	}
	unknown := 0
	for _, u := range updates {
		if i := h.indexForOutcome(u); i >= 0 && !h.res.Updates[i].Installed {
			h.res.Updates[i].OutcomeUnknown = true
			unknown++
		}
	}
	return fmt.Sprintf("whether %d updates were installed is unknown", unknown)
}

// needsReboot applies the reboot policy to a patched host.
func (h *hostRun) needsReboot() bool {
	switch h.r.cfg.Reboot {
	case RebootAlways:
		return true
	case RebootIfRequired:
		return h.res.RebootRequired
	}
	return false
}

// finishPatched ends a patched host: failed if a selected update reported an
// error and never installed, ok otherwise.
//
// A host that would end ok settles first (health check, post hooks).
func (h *hostRun) finishPatched(ctx context.Context) {
	var bad []string
	for _, u := range h.res.Updates {
		if u.Error != "" && !u.Installed {
			bad = append(bad, fmt.Sprintf("%s (%s)", u.Name, u.Error))
		}
	}
	if len(bad) > 0 {
		h.res.Phase = report.PhaseInstalling
		h.end(report.StatusFailed, fmt.Sprintf("%d updates did not install: %s", len(bad), strings.Join(bad, ", ")), "install", nil)
		return
	}
	if h.settle(ctx) {
		h.ok()
	}
}

// updateKey identifies an update across scans and rounds: the update id when
// the OS has one (Windows), else name, arch and offered version — a newer
// version of the same package is a new update, not a loop.
func updateKey(u patch.Update) string {
	if u.ID != "" {
		return "id:" + u.ID
	}
	return u.Name + "\x00" + u.Arch + "\x00" + u.Available
}

// mergeFound adds a scan's updates to the result, keeping what earlier rounds
// recorded about updates seen before.
func (h *hostRun) mergeFound(found []patch.Update) {
	for _, u := range found {
		if _, seen := h.byKey[updateKey(u)]; !seen {
			u.Installed = false
			h.addUpdate(u)
		}
	}
}

// mergeInstalled records an install's per-update outcome.
func (h *hostRun) mergeInstalled(done []patch.Update) {
	for _, u := range done {
		i := h.indexForOutcome(u)
		if i < 0 {
			h.addUpdate(u)
			i = len(h.res.Updates) - 1
		}
		h.res.Updates[i].Installed = u.Installed
		h.res.Updates[i].Error = u.Error
		if u.Installed {
			h.res.Updates[i].Error = ""
			h.installed[updateKey(h.res.Updates[i].Update)] = true
		}
	}
}

// markSelected flags the listed updates the selection picked, so a selected
// update still pending reads differently from one left alone on purpose;
// without a saved plan, each update left alone says why (HeldBack).
func (h *hostRun) markSelected(selected []patch.Update) {
	for _, u := range selected {
		if i, ok := h.byKey[updateKey(u)]; ok {
			h.res.Updates[i].Selected = true
		}
	}
	if h.r.cfg.Planned != nil {
		return
	}
	for i := range h.res.Updates {
		ru := &h.res.Updates[i]
		ru.HeldBack = ""
		if !ru.Selected && !ru.Installed {
			ru.HeldBack = h.r.cfg.Selection.HeldBack(ru.Update)
		}
	}
}

func (h *hostRun) addUpdate(u patch.Update) {
	h.byKey[updateKey(u)] = len(h.res.Updates)
	h.res.Updates = append(h.res.Updates, report.Update{Update: u})
}

// indexForOutcome finds the listed update an install outcome is about: by
// key, or, for a backend that reports the installed version rather than the
// offered one, by name and arch among updates not yet installed.
func (h *hostRun) indexForOutcome(u patch.Update) int {
	if i, ok := h.byKey[updateKey(u)]; ok {
		return i
	}
	if u.ID != "" {
		return -1
	}
	for i, have := range h.res.Updates {
		if have.ID == "" && !have.Installed && have.Name == u.Name && have.Arch == u.Arch {
			return i
		}
	}
	return -1
}
