package runner

import "github.com/patchrun/patchrun/report"

// Exit codes of a finished run (FEATURES.md). 1, "the run could not start",
// belongs to cmd: Run returns an error instead of a Report then.
const (
	ExitOK          = 0
	ExitHostsFailed = 2
	ExitHalted      = 3
	ExitInterrupted = 130
)

// ExitCode picks the process exit code for a report: interrupted beats
// halted beats any failed or unreachable host. Hosts that had nothing to do
// (e.g. reboot --only-if-required on a host that needs none) are ok.
func ExitCode(r report.Report) int {
	switch {
	case r.Interrupted:
		return ExitInterrupted
	case r.Halted:
		return ExitHalted
	}
	for _, h := range r.Hosts {
		if h.Status == report.StatusFailed || h.Status == report.StatusUnreachable {
			return ExitHostsFailed
		}
	}
	return ExitOK
}
