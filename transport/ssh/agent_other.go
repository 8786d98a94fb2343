//go:build !windows

package ssh

import (
	"context"
	"errors"
	"net"
)

// dialPipe fails: named pipes exist only on Windows, and agentEndpointFor
// never picks one elsewhere.
func dialPipe(context.Context, string) (net.Conn, error) {
	return nil, errors.New("named pipes exist only on Windows")
}
