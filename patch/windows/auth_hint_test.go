package windows_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/internal/winrmemu"
	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/patch/windows"
	"github.com/patchrun/patchrun/transport"
	"github.com/patchrun/patchrun/transport/winrm"
)

// failingTransport fails every command with err, as a transport does when
// the host refuses the account or the connection breaks.
type failingTransport struct{ err error }

func (f failingTransport) Run(context.Context, transport.Command) (transport.Result, error) {
	return transport.Result{}, f.err
}
func (f failingTransport) Upload(context.Context, string, io.Reader, int64) error { return f.err }
func (failingTransport) Close() error                                             { return nil }

const tokenFilterHint = "LocalAccountTokenFilterPolicy"

// TestAuthErrorHintIsTyped: whether the backend adds its access-denied
// hint depends on the error's type, not its text. An ErrAccessDenied error
// from transport/winrm already explains the token filter (here its text
// deliberately does not, so a text check would add the hint); any other
// auth failure gets the hint; other failures get none.
func TestAuthErrorHintIsTyped(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantHint bool
		kind     string
	}{
		{"winrm access denied: the transport's own hint stands",
			fmt.Errorf("winrm win1:5985: %w: %w: host answered HTTP 401", transport.ErrAuth, winrm.ErrAccessDenied), false, "auth"},
		{"other auth failure: hint added",
			fmt.Errorf("winrm win1:5985: %w: ntlm: host does not offer NTLM", transport.ErrAuth), true, "auth"},
		{"connection lost: no hint",
			fmt.Errorf("winrm win1:5985: %w: reset", transport.ErrConnLost), false, "connection-lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := windows.New(fastOptions()).Facts(context.Background(), failingTransport{tt.err})
			if got := transport.Kind(err); got != tt.kind {
				t.Fatalf("kind %q, want %q (err: %v)", got, tt.kind, err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("the transport's error is no longer reachable with errors.Is: %v", err)
			}
			if got := strings.Contains(err.Error(), tokenFilterHint); got != tt.wantHint {
				t.Errorf("hint present = %v, want %v: %v", got, tt.wantHint, err)
			}
		})
	}
}

// TestAccessDeniedMidSessionHintedOnce: the host starts refusing the
// account after Dial (the next shell is denied); the backend's error is
// typed ErrAuth and ErrAccessDenied and names the token filter once.
func TestAccessDeniedMidSessionHintedOnce(t *testing.T) {
	h := startHost(t, winsim.Config{})
	cfg := clientConfig(h)
	cfg.RecycleAfter = 1 // every command after the first opens a new shell
	c := dialAs(t, cfg)
	if _, err := c.Run(testCtx(t), transport.Command{Line: "echo warm"}); err != nil {
		t.Fatal(err)
	}
	h.SetFaults(winsim.Faults{WinRM: winrmemu.Faults{DenyAccess: true}})
	_, err := windows.New(fastOptions()).Facts(testCtx(t), c)
	if !errors.Is(err, transport.ErrAuth) || !errors.Is(err, winrm.ErrAccessDenied) {
		t.Fatalf("want ErrAuth and ErrAccessDenied, got %v", err)
	}
	if n := strings.Count(err.Error(), tokenFilterHint); n != 1 {
		t.Errorf("the token filter hint appears %d times, want once: %v", n, err)
	}
}
