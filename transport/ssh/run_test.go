package ssh

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/patchrun/patchrun/transport"
)

// connect starts a fake server and dials it with a key; opts may adjust the
// Config (short keepalives, say).
func connect(t *testing.T, opts ...func(*Config)) (*fakeServer, *Client) {
	t.Helper()
	key := newClientKey(t)
	srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}})
	cfg := srv.config(t, key)
	for _, o := range opts {
		o(&cfg)
	}
	return srv, dial(t, cfg)
}

func TestRunExitStatus(t *testing.T) {
	srv, c := connect(t)
	tests := []struct {
		line       string
		wantCode   int
		wantStderr string
	}{
		{line: "exit 0", wantCode: 0},
		{line: "exit 1", wantCode: 1},
		{line: "exit 100", wantCode: 100}, // dnf check-update: updates available
		{line: "exit 255", wantCode: 255},
		{line: "no-such-command", wantCode: 127, wantStderr: "not found"},
		{line: "signal TERM", wantCode: 128 + 15, wantStderr: "killed by signal TERM"},
		{line: "signal KILL", wantCode: 128 + 9, wantStderr: "killed by signal KILL"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			res, err := c.Run(t.Context(), transport.Command{Line: tt.line})
			if err != nil {
				t.Fatalf("Run: %v (a non-zero exit is data, not an error)", err)
			}
			if res.ExitCode != tt.wantCode {
				t.Errorf("ExitCode = %d, want %d", res.ExitCode, tt.wantCode)
			}
			if !strings.Contains(string(res.Stderr), tt.wantStderr) {
				t.Errorf("Stderr = %q, want it to contain %q", res.Stderr, tt.wantStderr)
			}
		})
	}
	if n := srv.accepts.Load(); n != 1 {
		t.Errorf("%d commands used %d connections, want 1 (sessions reuse the connection)", len(tests), n)
	}
}

func TestRunStreams(t *testing.T) {
	_, c := connect(t)
	var seenOut, seenErr bytes.Buffer
	res, err := c.Run(t.Context(), transport.Command{Line: "both", Stdout: &seenOut, Stderr: &seenErr})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" {
		t.Errorf("Stdout, Stderr = %q, %q; want \"out\\n\", \"err\\n\"", res.Stdout, res.Stderr)
	}
	if seenOut.String() != "out\n" || seenErr.String() != "err\n" {
		t.Errorf("tee saw %q, %q", seenOut.String(), seenErr.String())
	}
	if res.Truncated || res.Duration <= 0 {
		t.Errorf("Truncated = %v, Duration = %v", res.Truncated, res.Duration)
	}
}

// failingWriter is an observer that breaks; the stream must go on.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("observer broke") }

func TestRunOutputCap(t *testing.T) {
	_, c := connect(t)
	const limit = 64 << 10
	tests := []struct {
		name      string
		flood     string
		observer  io.Writer
		wantLen   int
		truncated bool
	}{
		{name: "under the cap", flood: "flood 1000", wantLen: 1000},
		{name: "exactly the cap", flood: "flood 65536", wantLen: limit},
		{name: "16x the cap", flood: "flood 1048576", wantLen: limit, truncated: true},
		{name: "broken observer", flood: "flood 1048576", observer: failingWriter{}, wantLen: limit, truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Run(t.Context(), transport.Command{Line: tt.flood, MaxOutput: limit, Stdout: tt.observer})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Stdout) != tt.wantLen || cap(res.Stdout) > 2*limit {
				t.Errorf("kept %d bytes (cap %d), want %d", len(res.Stdout), cap(res.Stdout), tt.wantLen)
			}
			if res.Truncated != tt.truncated || res.ExitCode != 0 {
				t.Errorf("Truncated = %v, ExitCode = %d; want %v, 0", res.Truncated, res.ExitCode, tt.truncated)
			}
		})
	}
}

func TestRunConnectionDropped(t *testing.T) {
	_, c := connect(t)
	res, err := c.Run(t.Context(), transport.Command{Line: "drop"})
	if !errors.Is(err, transport.ErrConnLost) {
		t.Fatalf("Run = %+v, %v; want ErrConnLost", res, err)
	}
	// A dead connection stays dead, and says so.
	if _, err := c.Run(t.Context(), transport.Command{Line: "exit 0"}); !errors.Is(err, transport.ErrConnLost) {
		t.Errorf("Run after drop: %v, want ErrConnLost", err)
	}
}

// In a synctest bubble (fake clock, in-memory connection) so that the
// healthy half cannot fail because a loaded machine answered a keepalive
// late.
func TestKeepaliveDetectsStalledPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 50 * time.Millisecond
		key := newClientKey(t)
		srv := startServer(t, serverOpts{authorized: []gossh.PublicKey{key.pub()}, inMemory: true})
		cfg := srv.config(t, key)
		cfg.KeepaliveInterval = interval
		cfg.KeepaliveCountMax = 2
		c := dial(t, cfg)
		// Keepalives answered: a command longer than the detection window
		// runs to completion on a healthy connection.
		ctx, cancel := context.WithTimeout(t.Context(), 5*interval)
		_, err := c.Run(ctx, transport.Command{Line: "sleep"})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("healthy connection: %v, want our own deadline (not a keepalive failure)", err)
		}

		// The stalled command never ends by itself: only the keepalive can
		// end this Run, after one interval plus CountMax unanswered ones.
		start := time.Now()
		_, err = c.Run(t.Context(), transport.Command{Line: "stall"})
		if !errors.Is(err, transport.ErrConnLost) || !strings.Contains(err.Error(), "keepalive") {
			t.Fatalf("stalled peer: %v, want ErrConnLost naming the keepalive", err)
		}
		if d, want := time.Since(start), interval*(1+2); d > want+interval {
			t.Errorf("a stalled peer was noticed after %s on the bubble's clock, want about %s", d, want)
		}
		c.Close()
	})
}

func TestRunContextCancel(t *testing.T) {
	srv, c := connect(t)
	ctx, cancel := context.WithCancel(t.Context())
	// Cancel once the command runs ("sleep" never ends by itself).
	go func() {
		for line := range srv.started {
			if line == "sleep" {
				cancel()
				return
			}
		}
	}()
	_, err := c.Run(ctx, transport.Command{Line: "sleep"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, transport.ErrConnLost) {
		t.Fatalf("err = %v, want context.Canceled and not ErrConnLost", err)
	}
	// The connection survives a cancelled command.
	res, err := c.Run(t.Context(), transport.Command{Line: "exit 3"})
	if err != nil || res.ExitCode != 3 {
		t.Fatalf("Run after cancel = %d, %v", res.ExitCode, err)
	}
	select {
	case sig := <-srv.signalled:
		if sig != "KILL" {
			t.Errorf("server got signal %q, want KILL", sig)
		}
	case <-time.After(2 * time.Second):
		t.Error("server never got a signal")
	}

	// An already-cancelled context never starts the command.
	done, stop := context.WithCancel(t.Context())
	stop()
	if _, err := c.Run(done, transport.Command{Line: "exit 0"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a done ctx: %v", err)
	}
}

func TestUpload(t *testing.T) {
	srv, c := connect(t)
	content := bytes.Repeat([]byte("patchrun\x00\xff"), 50_000) // 500 kB, binary
	tests := []struct {
		name    string
		dst     string
		src     io.Reader
		size    int64
		want    []byte
		wantErr string
	}{
		{name: "binary file", dst: "/tmp/pkg.deb", src: bytes.NewReader(content), size: int64(len(content)), want: content},
		{name: "quotes and spaces in the path", dst: "/tmp/it's a $(file)", src: strings.NewReader("hi"), size: 2, want: []byte("hi")},
		{name: "empty", dst: "/tmp/empty", src: strings.NewReader(""), size: 0, want: []byte{}},
		{name: "sends only size bytes", dst: "/tmp/head", src: strings.NewReader("0123456789"), size: 4, want: []byte("0123")},
		{name: "short source", dst: "/tmp/short", src: strings.NewReader("abc"), size: 10, wantErr: "3 of 10 bytes"},
		{name: "remote refuses", dst: "/ro/file", src: bytes.NewReader(content), size: int64(len(content)), wantErr: "exit 1: sh: /ro/file: Read-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Upload(t.Context(), tt.dst, tt.src, tt.size)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Upload err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := srv.file(tt.dst)
			if !ok || !bytes.Equal(got, tt.want) {
				t.Errorf("server has %d bytes at %q (present %v), want %d", len(got), tt.dst, ok, len(tt.want))
			}
		})
	}
}

func TestCloseIsIdempotentAndJoins(t *testing.T) {
	_, c := connect(t, func(cfg *Config) { cfg.KeepaliveInterval = 10 * time.Millisecond })
	if _, err := c.Run(t.Context(), transport.Command{Line: "exit 0"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if _, err := c.Run(t.Context(), transport.Command{Line: "exit 0"}); !errors.Is(err, transport.ErrConnLost) {
		t.Errorf("Run after Close: %v, want ErrConnLost", err)
	}
}

// BenchmarkDial measures one handshake + publickey auth + a session on
// loopback against the in-process server (client and server share the CPU).
func BenchmarkDial(b *testing.B) {
	key := newClientKey(b)
	srv := startServer(b, serverOpts{authorized: []gossh.PublicKey{key.pub()}})
	cfg := srv.config(b, key)
	for b.Loop() {
		c, err := Dial(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Run(b.Context(), transport.Command{Line: "exit 0"}); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// BenchmarkRun measures one command on an open connection (a new session).
func BenchmarkRun(b *testing.B) {
	key := newClientKey(b)
	srv := startServer(b, serverOpts{authorized: []gossh.PublicKey{key.pub()}})
	c, err := Dial(b.Context(), srv.config(b, key))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for b.Loop() {
		if _, err := c.Run(b.Context(), transport.Command{Line: "exit 0"}); err != nil {
			b.Fatal(err)
		}
	}
}
