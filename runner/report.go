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
