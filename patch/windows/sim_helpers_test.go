package windows_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/windows"
	"github.com/patchrun/patchrun/transport"
	"github.com/patchrun/patchrun/transport/winrm"
)

// These tests drive the backend through the real transport/winrm client
// (NTLM with message encryption over HTTP, as against a default Windows
// listener) into internal/winrmemu, with internal/winsim behind it.

func startHost(t *testing.T, cfg winsim.Config) *winsim.Host {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "WIN-TEST"
	}
	h, err := winsim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func clientConfig(h *winsim.Host) winrm.Config {
	user, pass := h.Credentials()
	return winrm.Config{
		Address: h.Address(), Port: h.Port(), User: user, Password: pass,
		OperationTimeout: time.Second, ResponseTimeout: 3 * time.Second,
		ConnectTimeout: time.Second, CallTimeout: 3 * time.Second,
	}
}

func dialAs(t *testing.T, cfg winrm.Config) *winrm.Client {
	t.Helper()
	c, err := winrm.Dial(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func dial(t *testing.T, h *winsim.Host) *winrm.Client {
	t.Helper()
	return dialAs(t, clientConfig(h))
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fastOptions are Options with test-sized durations.
func fastOptions() windows.Options {
	return windows.Options{
		PollInterval: 5 * time.Millisecond, InstallTimeout: 15 * time.Second, StaleAfter: 2 * time.Second,
		RetryMax: 20 * time.Millisecond, ReadyPause: 5 * time.Millisecond, CleanupTimeout: 3 * time.Second,
	}
}

func byKB(updates []patch.Update) map[string]patch.Update {
	m := map[string]patch.Update{}
	for _, u := range updates {
		m[u.KB] = u
	}
	return m
}

// waitNewBoot redials h until it answers with a boot id other than before,
// and returns the new id and a client on the new boot.
func waitNewBoot(t *testing.T, h *winsim.Host, be patch.Backend, before string) (string, *winrm.Client) {
	t.Helper()
	ctx := testCtx(t)
	for {
		cfg := clientConfig(h)
		c, err := winrm.Dial(ctx, cfg)
		if err == nil {
			id, err := be.BootID(ctx, c)
			if err == nil && id != before {
				t.Cleanup(func() { c.Close() })
				return id, c
			}
			c.Close()
		}
		if ctx.Err() != nil {
			t.Fatalf("host never came back with a new boot id (last error: %v)", errors.Join(err, ctx.Err()))
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func winrmDial(t *testing.T, h *winsim.Host) (*winrm.Client, error) {
	t.Helper()
	c, err := winrm.Dial(testCtx(t), clientConfig(h))
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// plainTransport is a Linux host over SSH: no powershell.exe.
type plainTransport struct{}

func (plainTransport) Run(context.Context, transport.Command) (transport.Result, error) {
	return transport.Result{ExitCode: 127, Stderr: []byte("sh: 1: powershell.exe: not found\n")}, nil
}
func (plainTransport) Upload(context.Context, string, io.Reader, int64) error { return nil }
func (plainTransport) Close() error                                           { return nil }
