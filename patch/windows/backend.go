package windows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// Name is the backend's package manager name.
const Name = "windows-update"

// Backend drives Windows Update on one host.
//
// Concurrency: a Backend holds only its Options (read-only after New), so
// it is safe to share; the transports it is given belong to one worker.
type Backend struct {
	opts Options
	// leftoversSwept: this host's leftovers of killed runs were already
	// swept by an earlier install round of this run; one sweep is enough.
	leftoversSwept bool
}

var _ patch.Backend = (*Backend)(nil)

// New returns the Windows Update backend. The transports given to its
// methods must reach a Windows host (transport/winrm, possibly wrapped).
func New(opts Options) patch.Backend {
	return &Backend{opts: opts.withDefaults()}
}

// Name implements patch.Backend.
func (b *Backend) Name() string { return Name }

// RecoveryHint: the installer runs as a scheduled task that outlives the
// connection, so its task state and the Windows Update log tell what
// happened (a leftover task is removed by the next run).
func (b *Backend) RecoveryHint() string {
	return "check Get-ScheduledTask -TaskName 'patchrun-*' and Get-WindowsUpdateLog"
}

// Refresh is a no-op on Windows: the Windows Update searcher that Scan uses
// goes online to the update service (or WSUS) on every search, so there is
// no local index to refresh first.
func (b *Backend) Refresh(ctx context.Context, t transport.Transport) error { return nil }

func randomRunID() (string, error) {
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return hex.EncodeToString(r[:]), nil
}
