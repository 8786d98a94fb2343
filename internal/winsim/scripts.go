package winsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/patchrun/patchrun/lease"
	"github.com/patchrun/patchrun/patch/windows"
)

// hresultAccessDenied is E_ACCESSDENIED as the scripts format it.
const hresultAccessDenied = "0x80070005"

// runScript answers one of patchrun's embedded scripts from the host's
// state, exactly as the real script would frame it.
func (h *Host) runScript(ctx context.Context, inv invocation, stdout, stderr io.Writer) int {
	result, code := h.answer(inv)
	js, err := json.Marshal(result)
	if err != nil {
		fmt.Fprintf(stderr, "winsim: %v\r\n", err)
		return 1
	}
	// Some noise before the frame, as a real profile or module might print.
	fmt.Fprint(stdout, "\r\n"+windows.FrameMarker(js)+"\r\n")
	return code
}

func scriptFailure(msg, hresult string) (any, int) {
	return map[string]string{"error": msg, "hresult": hresult}, 1
}

// answer computes a script's result object and exit code.
func (h *Host) answer(inv invocation) (any, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	filtered := h.isFiltered(inv.user)
	switch inv.script {
	case windows.ScriptFacts:
		s := h.signals
		return windows.FactsReport{
			Hostname: h.cfg.Name, Caption: h.cfg.Caption, Version: h.cfg.Version, Build: h.cfg.Build,
			PSVersion: "5.1.20348.2227", IsAdmin: !filtered, User: h.cfg.Name + `\` + inv.user,
			LastBoot: formatTime(h.lastBoot), WURebootRequired: s.WURebootRequired, CBSRebootPending: s.CBSRebootPending,
			PendingFileRename: s.PendingFileRename, UpdateExeVolatile: s.UpdateExeVolatile,
			Arch: "AMD64", UptimeSeconds: int64(time.Since(h.lastBoot) / time.Second),
			LastHotfix: h.lastFix.Format(time.DateOnly), LastHotfixID: "KB5044281",
			Addresses: h.addressesLocked(),
		}, 0
	case windows.ScriptBootID:
		return map[string]string{"last_boot": formatTime(h.lastBoot)}, 0
	case windows.ScriptScan:
		return windows.ScanReport{Updates: h.applicableLocked()}, 0
	case windows.ScriptInstallStart:
		if filtered {
			return scriptFailure("Access is denied.", hresultAccessDenied)
		}
		return h.startInstallLocked(inv)
	case windows.ScriptInstallStatus:
		return h.installStatusLocked(inv)
	case windows.ScriptInstallCleanup:
		return h.cleanupLocked(inv)
	case windows.ScriptInstallLeftovers:
		return h.leftoversLocked(), 0
	case windows.ScriptReboot:
		if filtered {
			return scriptFailure("Access is denied.", hresultAccessDenied)
		}
		first, final, aborted := h.shutdownLocked()
		return map[string]any{"first_exit": first, "exit": final, "aborted_other": aborted}, 0
	case windows.ScriptCancelReboot:
		if filtered {
			return scriptFailure("Access is denied.", hresultAccessDenied)
		}
		return map[string]any{"exit": h.abortShutdownLocked()}, 0
	case lease.WindowsScriptName:
		var req lease.Request
		if err := json.Unmarshal(inv.args, &req); err != nil {
			return scriptFailure("bad lease arguments: "+err.Error(), "0x80070057")
		}
		return h.lock.WindowsAnswer(req), 0
	case windows.ScriptReady:
		busy := time.Now().Before(h.busyUntil)
		ti := "Stopped"
		if busy {
			ti = "Running"
		}
		return map[string]any{"servicing_in_progress": busy, "trusted_installer": ti, "idle": !busy}, 0
	}
	return scriptFailure(fmt.Sprintf("winsim: unknown patchrun script %q", inv.script), "0x80004001")
}

// applicableLocked lists what the searcher would find now.
func (h *Host) applicableLocked() []windows.ScanUpdate {
	out := []windows.ScanUpdate{}
	for _, u := range h.updates {
		if u.installed || h.boots < u.AfterBoots {
			continue
		}
		changed := ""
		if !u.Released.IsZero() {
			changed = u.Released.UTC().Format("2006-01-02T15:04:05Z") // scan.ps1's format
		}
		out = append(out, windows.ScanUpdate{
			CVEs: append([]string(nil), u.CVEs...), LastChange: changed,
			ID: u.ID, Title: u.Title, KBs: []string{u.KB}, Severity: u.Severity,
			Categories: append([]string(nil), u.Categories...), BrowseOnly: u.BrowseOnly,
			MaxDownloadSize: float64(u.SizeBytes), RebootBehavior: u.RebootBehavior,
		})
	}
	return out
}

type runArgs struct {
	RunID     string   `json:"run_id"`
	UpdateIDs []string `json:"update_ids"`
	Installer string   `json:"installer"`
}

func parseArgs(inv invocation) (runArgs, error) {
	var a runArgs
	if err := json.Unmarshal(inv.args, &a); err != nil {
		return a, err
	}
	if a.RunID == "" || strings.ContainsAny(a.RunID, `\/. `) {
		return a, fmt.Errorf("bad run id '%s'", a.RunID)
	}
	return a, nil
}

func workDir(runID string) string { return `C:\ProgramData\patchrun\` + runID }
