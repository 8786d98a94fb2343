package unix

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// execFunc runs an install command line with one tool's exit-code
// semantics. It returns the last Result, whether the tool itself said a
// reboot is needed, and an error wrapping patch.ErrCommandFailed (the tool
// failed) or a transport error (outcome unknown).
type execFunc func(ctx context.Context, t transport.Transport, what, line string) (transport.Result, bool, error)

// installPlan is what differs between package managers in Install.
type installPlan struct {
	what   string
	full   string                      // host-wide upgrade command
	subset func(specs []string) string // exactly these packages, at these versions
	// pin names one update at the version it offered, in the form the
	// tool's command line takes ("name=1.1", "name-1.1-1.x86_64").
	pin func(patch.Update) string
	// nameable says whether an update may be named on the subset command
	// line (nil: all may).
	nameable func(patch.Update) bool
	exec     execFunc
	rescan   func(context.Context, transport.Transport) ([]patch.Update, error)
}

// simpleExec: exit 0 is success, anything else a failure (apt, dnf, yum).
func simpleExec(ctx context.Context, t transport.Transport, what, line string) (transport.Result, bool, error) {
	res, err := run(ctx, t, what, line)
	if err != nil {
		return res, false, err
	}
	if res.ExitCode != 0 {
		return res, false, commandFailed(what, res)
	}
	return res, false, nil
}

// install runs the install (the host-wide upgrade when full, else the
// subset command naming exactly the updates) and marks each requested
// update Installed or sets its Error, verified by rescanning: an update
// that is no longer pending was installed.
//
// The install command runs as a detached job (jobRunner); attach, when set,
// names a running job to follow instead of starting one (ReattachInstall).
// A job to follow that is not on the host ends it at once with an error
// wrapping patch.ErrNoSuchJob: the caller decides what to do.
func (h *host) install(ctx context.Context, t transport.Transport, updates []patch.Update, full bool, p installPlan, attach string) (patch.InstallResult, error) {
	result := patch.InstallResult{Updates: append([]patch.Update(nil), updates...)}
	if len(updates) == 0 {
		return result, nil
	}
	var names []string
	seen := map[string]bool{}
	for i := range result.Updates {
		u := &result.Updates[i]
		if !safeName.MatchString(u.Name) {
			u.Error = "refused: unsafe package name"
			continue
		}
		if !full && !safeVersion.MatchString(u.Available) {
			u.Error = "refused: no safe version to install (" + strconv.Quote(u.Available) + ")"
			continue
		}
		if (p.nameable == nil || p.nameable(*u)) && !seen[u.Name] {
			seen[u.Name] = true
			names = append(names, p.pin(*u))
		}
	}

	line := ""
	switch {
	case full:
		line = p.full
	case len(names) > 0:
		line = p.subset(names)
	}
	if line == "" {
		// Nothing nameable: e.g. only new apt packages, which come in as
		// dependencies of the upgrade that needs them.
		markUnset(result.Updates, "not installed: nothing that can be named on the install command line")
		return result, nil
	}
	jobs := h.jobs(t, jobInstall)
	jobs.attach = attach
	res, toolBoot, execErr := p.exec(ctx, jobs, p.what, line)
	result.Output = excerpt(res)
	if attach != "" && errors.Is(execErr, patch.ErrNoSuchJob) {
		markUnset(result.Updates, "not installed: "+execErr.Error())
		return result, execErr
	}
	if execErr != nil && !errors.Is(execErr, patch.ErrCommandFailed) {
		markUnset(result.Updates, "outcome unknown: "+execErr.Error())
		return result, execErr
	}

	pending, err := p.rescan(ctx, t)
	if err != nil {
		markUnset(result.Updates, "not verified: rescan failed")
		return result, errors.Join(execErr, fmt.Errorf("verify install: %w", err))
	}
	still := map[string]patch.Update{}
	for _, u := range pending {
		still[u.Name+"\x00"+u.Arch] = u
		still[u.Name+"\x00"] = u
	}
	for i := range result.Updates {
		u := &result.Updates[i]
		if u.Error != "" {
			continue
		}
		left, ok := still[u.Name+"\x00"+u.Arch]
		if !ok || (!full && left.Current == u.Available) {
			// Gone from the pending list, or (a pinned install) now at
			// the version asked for with a newer one offered since.
			u.Installed = true
			continue
		}
		switch {
		case execErr != nil:
			u.Error = fmt.Sprintf("not installed: %s exited %d", p.what, res.ExitCode)
			var ce *patch.CommandError
			if errors.As(execErr, &ce) && ce.ExitCode < 0 {
				// The job never ran or ended without an exit status.
				u.Error = "not installed: " + ce.Reason
			}
		default:
			u.Error = "still pending after install (available " + left.Available + ")"
		}
	}

	result.RebootRequired = toolBoot
	for _, u := range result.Updates {
		if u.Installed && u.RebootRequired {
			result.RebootRequired = true
		}
	}
	// The host's pending-reboot signals are not read here: the caller
	// reads them once per install round with RebootRequired.
	return result, execErr
}

// markUnset sets msg as the Error of every update not yet decided.
func markUnset(ups []patch.Update, msg string) {
	for i := range ups {
		if ups[i].Error == "" && !ups[i].Installed {
			ups[i].Error = msg
		}
	}
}
