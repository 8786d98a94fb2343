package ssh

import (
	"context"
	"net"

	"github.com/Microsoft/go-winio"
)

// dialPipe opens a Windows named pipe; go-winio does the overlapped I/O and
// the wait for a busy pipe that the standard library does not offer.
func dialPipe(ctx context.Context, path string) (net.Conn, error) {
	return winio.DialPipeContext(ctx, path)
}
