package windows

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// Reasons named in Facts.RebootReasons and RebootRequired, one per signal.
const (
	ReasonWURebootRequired  = `WindowsUpdate\Auto Update\RebootRequired`
	ReasonCBSRebootPending  = `Component Based Servicing\RebootPending`
	ReasonUpdateExeVolatile = `Updates\UpdateExeVolatile`
	// ReasonPendingFileRename is a soft signal: many installers leave it set
	// and it alone does not make RebootRequired true.
	ReasonPendingFileRename = `PendingFileRenameOperations (soft)`
)

// FactsReport is the facts script's result.
type FactsReport struct {
	Hostname          string `json:"hostname"`
	Caption           string `json:"caption"`
	Version           string `json:"version"`
	Build             string `json:"build"`
	PSVersion         string `json:"ps_version"`
	IsAdmin           bool   `json:"is_admin"`
	User              string `json:"user"`
	LastBoot          string `json:"last_boot"`
	WURebootRequired  bool   `json:"wu_reboot_required"`
	CBSRebootPending  bool   `json:"cbs_reboot_pending"`
	PendingFileRename bool   `json:"pending_file_rename"`
	UpdateExeVolatile bool   `json:"update_exe_volatile"`
}

// rebootSignals returns whether a hard signal is set, and every set
// signal's name (soft ones included, marked as such).
func (r FactsReport) rebootSignals() (bool, []string) {
	var reasons []string
	hard := false
	for _, s := range []struct {
		set  bool
		name string
		hard bool
	}{
		{r.WURebootRequired, ReasonWURebootRequired, true},
		{r.CBSRebootPending, ReasonCBSRebootPending, true},
		{r.UpdateExeVolatile, ReasonUpdateExeVolatile, true},
		{r.PendingFileRename, ReasonPendingFileRename, false},
	} {
		if s.set {
			reasons = append(reasons, s.name)
			hard = hard || s.hard
		}
	}
	return hard, reasons
}

// toFacts maps the report to patch.Facts.
func (r FactsReport) toFacts() patch.Facts {
	required, reasons := r.rebootSignals()
	f := patch.Facts{
		OS:             strings.TrimSpace(r.Caption + " " + r.Build),
		Family:         "windows",
		Kernel:         r.Version,
		PackageManager: Name,
		BootID:         r.LastBoot,
		RebootRequired: required,
		RebootReasons:  reasons,
	}
	if t, err := time.Parse(time.RFC3339Nano, r.LastBoot); err == nil {
		f.LastBoot = t
	}
	return f
}

// Facts implements patch.Backend. An account without an administrator
// token fails here, with the hint, before any scan.
func (b *Backend) Facts(ctx context.Context, t transport.Transport) (patch.Facts, error) {
	var r FactsReport
	if err := runScript(ctx, t, ScriptFacts, nil, &r); err != nil {
		return patch.Facts{}, err // names facts.ps1; the runner names the step
	}
	if !r.IsAdmin {
		return patch.Facts{}, fmt.Errorf("%s is not an administrator in this session: %w: %s\n%s",
			r.User, patch.ErrCommandFailed, hresultText(hresultAccessDenied), hintAccessDenied)
	}
	if r.LastBoot == "" {
		return patch.Facts{}, fmt.Errorf("facts.ps1: %w: no LastBootUpTime", patch.ErrCommandFailed)
	}
	return r.toFacts(), nil
}

// RebootRequired implements patch.Backend from the same signals as Facts.
func (b *Backend) RebootRequired(ctx context.Context, t transport.Transport) (bool, []string, error) {
	var r FactsReport
	if err := runScript(ctx, t, ScriptFacts, nil, &r); err != nil {
		return false, nil, fmt.Errorf("reboot signals: %w", err)
	}
	required, reasons := r.rebootSignals()
	return required, reasons, nil
}

// BootID implements patch.Backend: LastBootUpTime, as the exact UTC string
// the host reports.
func (b *Backend) BootID(ctx context.Context, t transport.Transport) (string, error) {
	var r struct {
		LastBoot string `json:"last_boot"`
	}
	if err := runScript(ctx, t, ScriptBootID, nil, &r); err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	if r.LastBoot == "" {
		return "", fmt.Errorf("boot id: %w: empty LastBootUpTime", patch.ErrCommandFailed)
	}
	return r.LastBoot, nil
}
