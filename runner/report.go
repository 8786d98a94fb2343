package runner

// summarize counts a run's results: updates_found is every pending update
// any scan found, updates_installed those reported installed, rebooted the
// hosts whose reboot was confirmed by a new boot id.
func summarize(hosts []HostResult) Summary {
	s := Summary{Hosts: len(hosts)}
	for _, h := range hosts {
		switch h.Status {
		case StatusOK:
			s.OK++
		case StatusFailed:
			s.Failed++
		case StatusUnreachable:
			s.Unreachable++
		case StatusSkipped:
			s.Skipped++
		}
		s.UpdatesFound += len(h.Updates)
		for _, u := range h.Updates {
			if u.Installed {
				s.UpdatesInstalled++
			}
		}
		if h.Rebooted {
			s.Rebooted++
		}
	}
	return s
}

// Exit codes of a finished run (docs/exit-codes.md). 1, "the run could not start",
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
func ExitCode(r Report) int {
	switch {
	case r.Interrupted:
		return ExitInterrupted
	case r.Halted:
		return ExitHalted
	}
	for _, h := range r.Hosts {
		if h.Status == StatusFailed || h.Status == StatusUnreachable {
			return ExitHostsFailed
		}
	}
	return ExitOK
}
