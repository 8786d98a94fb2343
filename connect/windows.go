package connect

import (
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/windows"
)

// windowsBackend is Windows Update driven over WinRM: scan with the WUA
// searcher, install through a SYSTEM scheduled task polled over WinRM.
// The host's ready_command runs as PowerShell after servicing is idle.
func (d *Dialer) windowsBackend(h inventory.Host) patch.Backend {
	opts := d.opts.Windows
	opts.ReadyCommand = h.ReadyCommand
	opts.RebootDelay = h.RebootDelay
	return windows.New(opts)
}
