package runner

import (
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
)

// PlannedHost is one host's entry of a saved plan (Plan.Planned): the
// updates to install, each at its planned version (Available), and the
// updates that were pending when the plan was made but left alone by its
// selection, so updates new since can be told apart.
type PlannedHost struct {
	Updates     []patch.Update
	NotSelected []patch.Update
}

// ErrorKindPlanDrift is a host failed under Plan.StrictPlan because its
// pending updates no longer match its plan.
const ErrorKindPlanDrift = "plan-drift"

// ErrorKindNotInPlan is a host skipped because Plan.Planned has no entry
// for it.
const ErrorKindNotInPlan = "not-in-plan"

// fullUpgrade reports whether installs may use the host-wide upgrade: never
// with a saved plan, whose versions are pinned.
func (s *settings) fullUpgrade() bool {
	return s.Planned == nil && s.Selection.FullUpgrade()
}

// notInPlan skips a host a saved plan has no entry for, before it is
// contacted. It reports whether it did.
func (h *hostRun) notInPlan() bool {
	if h.r.cfg.Planned == nil || h.r.cfg.Command != report.CmdPatch {
		return false
	}
	if _, ok := h.r.cfg.Planned[h.host.Name]; ok {
		return false
	}
	h.end(report.StatusSkipped, "not in the plan: it was not scanned ok when the plan was made, or not selected then", ErrorKindNotInPlan, nil)
	return true
}

// choose picks the updates to install from what the last scan found: the
// selection's pick, or, with a saved plan, the host's planned updates that
// are still pending and not yet at their planned version, each at its
// planned version even when a newer one is offered now. A planned version
// that differs from the offered one is listed in the result on its own.
func (h *hostRun) choose(pending []patch.Update) []patch.Update {
	if h.r.cfg.Planned == nil {
		return h.r.cfg.Selection.Filter(pending)
	}
	now := map[string]patch.Update{}
	for _, u := range pending {
		now[planKey(u)] = u
	}
	var out []patch.Update
	for _, p := range h.r.cfg.Planned[h.host.Name].Updates {
		u, ok := now[planKey(p)]
		if !ok || (p.ID == "" && u.Current == p.Available) {
			continue // gone, or already at the planned version
		}
		if _, listed := h.byKey[updateKey(p)]; !listed {
			p.Installed = false
			h.addUpdate(p)
		}
		out = append(out, p)
	}
	return out
}

// checkPlan compares the first scan with the host's plan, records any
// difference in the result and logs it. Under Plan.StrictPlan a difference
// fails the host (nothing is installed); it reports whether the host goes on.
func (h *hostRun) checkPlan() bool {
	if h.r.cfg.Planned == nil {
		return true
	}
	d := planDrift(h.r.cfg.Planned[h.host.Name], h.pending)
	if d == nil {
		return true
	}
	h.res.PlanDrift = d
	msg := "plan drift: " + d.String()
	if h.r.cfg.StrictPlan {
		h.failWith(ErrorKindPlanDrift, msg+"; --strict-plan: nothing installed")
		return false
	}
	h.logf(nil, "%s; installing only planned updates still pending, at their planned versions", msg)
	return true
}

// planKey names an update across a plan and a scan: its update id
// (Windows), else its name and arch; the version is what may have drifted.
func planKey(u patch.Update) string {
	if u.ID != "" {
		return "id:" + u.ID
	}
	return u.Name + "\x00" + u.Arch
}

// planDrift is how pending differs from the plan, nil when it does not.
func planDrift(pl PlannedHost, pending []patch.Update) *report.PlanDrift {
	known := map[string]bool{}
	for _, u := range pl.NotSelected {
		known[planKey(u)] = true
	}
	now := map[string]patch.Update{}
	for _, u := range pending {
		now[planKey(u)] = u
	}
	var d report.PlanDrift
	for _, p := range pl.Updates {
		known[planKey(p)] = true
		u, ok := now[planKey(p)]
		switch {
		case !ok:
			d.Gone = append(d.Gone, report.DriftUpdate{Name: p.Name, Arch: p.Arch, ID: p.ID, Planned: p.Available})
		case u.Available != p.Available || u.Current != p.Current:
			d.Changed = append(d.Changed, report.DriftUpdate{Name: p.Name, Arch: p.Arch, ID: p.ID, Planned: p.Available, Available: u.Available, Current: u.Current})
		}
	}
	for _, u := range pending {
		if !known[planKey(u)] {
			d.New = append(d.New, report.DriftUpdate{Name: u.Name, Arch: u.Arch, ID: u.ID, Available: u.Available, Current: u.Current})
		}
	}
	if len(d.New)+len(d.Gone)+len(d.Changed) == 0 {
		return nil
	}
	return &d
}

// stillPending tells, from a rescan, whether an update asked for is still
// to be installed: its id is still offered (Windows), or its package is
// still pending and not yet at the version asked for. A package now at
// that version with a newer one offered since (a pinned install) is done.
func stillPending(found []patch.Update) func(patch.Update) bool {
	now := map[string]patch.Update{}
	for _, u := range found {
		now[planKey(u)] = u
	}
	return func(u patch.Update) bool {
		f, ok := now[planKey(u)]
		return ok && (u.ID != "" || f.Current != u.Available)
	}
}
