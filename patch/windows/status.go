package windows

import (
	"fmt"
	"time"

	"github.com/patchrun/patchrun/patch"
)

// Installer phases written to status.json.
const (
	PhaseQueued      = "queued"
	PhaseDownloading = "downloading"
	PhaseInstalling  = "installing"
	PhaseDone        = "done"
	PhaseFailed      = "failed"
)

// OperationResultCode values of the Windows Update Agent.
const (
	ResultNotStarted          = 0
	ResultInProgress          = 1
	ResultSucceeded           = 2
	ResultSucceededWithErrors = 3
	ResultFailed              = 4
	ResultAborted             = 5
)

var resultNames = map[int]string{
	ResultNotStarted: "not started", ResultInProgress: "in progress", ResultSucceeded: "succeeded",
	ResultSucceededWithErrors: "succeeded with errors", ResultFailed: "failed", ResultAborted: "aborted",
}

// InstallStatus is the installer's status.json.
type InstallStatus struct {
	Phase          string         `json:"phase"`
	Heartbeat      string         `json:"heartbeat"` // UTC, RFC 3339
	Updates        []UpdateResult `json:"updates"`
	RebootRequired bool           `json:"reboot_required"`
	Error          string         `json:"error"`
}

// UpdateResult is one requested update's outcome.
type UpdateResult struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	ResultCode int    `json:"result_code"`
	HResult    string `json:"hresult"` // "0x%08X"
}

// StatusReport is the install-status script's result.
type StatusReport struct {
	Now         string         `json:"now"` // the host's clock, UTC
	Found       bool           `json:"found"`
	TaskState   string         `json:"task_state"`
	TaskRunning bool           `json:"task_running"`
	Status      *InstallStatus `json:"status"`
}

// heartbeatAge is how old the heartbeat is by the host's own clock (so a
// skewed clock on either side does not matter). ok is false when either
// time is missing or unreadable.
func (r StatusReport) heartbeatAge() (time.Duration, bool) {
	if r.Status == nil {
		return 0, false
	}
	now, err1 := time.Parse(time.RFC3339Nano, r.Now)
	beat, err2 := time.Parse(time.RFC3339Nano, r.Status.Heartbeat)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return now.Sub(beat), true
}

// finished reports whether the installer wrote its final phase.
func (s *InstallStatus) finished() bool {
	return s != nil && (s.Phase == PhaseDone || s.Phase == PhaseFailed)
}

// applyResults copies the per-update outcome onto the requested updates:
// Installed for result code 2, Error ("0x80240016: …") for anything else.
// An update the status does not mention failed to run at all.
func applyResults(updates []patch.Update, st *InstallStatus) []patch.Update {
	byID := map[string]UpdateResult{}
	for _, r := range st.Updates {
		byID[r.ID] = r
	}
	out := make([]patch.Update, len(updates))
	for i, u := range updates {
		u.Installed, u.Error = false, ""
		r, ok := byID[u.ID]
		switch {
		case !ok && st.Phase == PhaseFailed && st.Error != "":
			u.Error = "installer failed: " + st.Error
		case !ok:
			u.Error = "not reported by the installer"
		case r.ResultCode == ResultSucceeded:
			u.Installed = true
		default:
			u.Error = resultError(r)
		}
		out[i] = u
	}
	return out
}

// resultError explains a failed update: its HResult with a short text when
// known, else its result code.
func resultError(r UpdateResult) string {
	name := resultNames[r.ResultCode]
	if name == "" {
		name = fmt.Sprintf("result code %d", r.ResultCode)
	}
	if code, ok := parseHResult(r.HResult); ok && code != 0 {
		return withHint(code, hresultText(code)+" ("+name+")")
	}
	return name
}
