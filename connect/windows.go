package connect

import (
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/windows"
)

// windowsBackend is Windows Update driven over WinRM: scan with the WUA
// searcher, install through a SYSTEM scheduled task polled over WinRM.
func (d *Dialer) windowsBackend() patch.Backend {
	return windows.New(d.opts.Windows)
}
