package runner

import (
	"context"
	"fmt"
	"strings"
)

// nextRound decides, after a patched host's verified reboot, whether another
// install round runs. It returns true when the host must reboot again;
// otherwise the host has ended.
func (h *hostRun) nextRound(ctx context.Context) bool {
	selected := h.choose(h.pending)
	h.markSelected(selected)

	// An update that installed and is pending again will do so forever
	// (a classic Windows Update failure): stop instead of rebooting in a loop.
	var looped []string
	for _, u := range selected {
		if h.installed[updateKey(u)] {
			looped = append(looped, u.Name)
		}
	}
	if len(looped) > 0 {
		h.failWith("update-loop", "update loop: "+strings.Join(looped, ", ")+" reappeared after install")
		return false
	}

	if len(selected) > 0 && h.res.Rounds < h.r.cfg.maxRounds {
		if h.r.stopping(ctx) {
			h.skip(fmt.Sprintf("interrupted: install round %d not started; %d selected updates still pending",
				h.res.Rounds+1, len(selected)))
			return false
		}
		if !h.install(ctx, selected) {
			return false
		}
		if h.needsReboot() {
			return true
		}
		h.finishPatched(ctx)
		return false
	}

	if h.res.RebootRequired {
		h.failWith("still-reboot-required", stillRequires(h.reboots))
		return false
	}
	h.finishPatched(ctx)
	return false
}
