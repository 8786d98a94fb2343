package estate

import (
	"testing"
	"time"

	"github.com/patchrun/patchrun/history"
	"github.com/patchrun/patchrun/report"
)

// A host that failed after its scan (its reboot never came back, its
// health check failed) has known pending updates: it is not "never
// scanned". One that was unreachable, or failed before its scan, is.
func TestFailedAfterItsScanCountsAsScanned(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	st := func(host string, status report.Status, phase report.Phase) history.HostStatus {
		return history.HostStatus{Host: host, RunID: "r1", Command: report.CmdPatch, StartedAt: at, Status: status, FailedPhase: phase}
	}
	got := scannedBy([]history.HostStatus{
		st("ok", report.StatusOK, ""),
		st("reboot-timeout", report.StatusFailed, report.PhaseWaitingUp),
		st("unhealthy", report.StatusFailed, report.PhaseHealth),
		st("unreachable", report.StatusUnreachable, report.PhaseConnecting),
		st("scan-failed", report.StatusFailed, report.PhaseScanning),
	}, at)
	for host, want := range map[string]bool{"ok": true, "reboot-timeout": true, "unhealthy": true, "unreachable": false, "scan-failed": false} {
		if got[host] != want {
			t.Errorf("%s: scanned %v, want %v", host, got[host], want)
		}
	}
}
