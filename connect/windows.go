package connect

import (
	"context"
	"fmt"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// detectWindows picks the Windows Update backend.
// TODO(lead): wire patch/windows when it lands (same session).
func detectWindows(ctx context.Context, h inventory.Host, t transport.Transport) (patch.Backend, error) {
	return nil, fmt.Errorf("host %s: windows backend: %w", h.Name, patch.ErrUnsupported)
}
