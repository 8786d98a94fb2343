package lease

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/transport"
)

// simShell is a transport answering lease commands from a Sim.
type simShell struct{ sim *Sim }

func (s simShell) Run(_ context.Context, c transport.Command) (transport.Result, error) {
	req, ok := ParseUnixCommand(c.Line)
	if !ok {
		return transport.Result{ExitCode: 127}, nil
	}
	return transport.Result{Stdout: []byte(s.sim.UnixAnswer(req))}, nil
}
func (simShell) Upload(context.Context, string, io.Reader, int64) error { return errors.New("no") }
func (simShell) Close() error                                           { return nil }

func TestLeaseExpiryByHostClock(t *testing.T) {
	now := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	sim := &Sim{Now: func() time.Time { return now }}
	ctx := context.Background()
	a, _ := New(simShell{sim}, Identity{RunID: "run-a", Controller: "ci", User: "bot", PID: 1}, Options{TTL: 30 * time.Minute})
	b, _ := New(simShell{sim}, Identity{RunID: "run-b", Controller: "laptop", User: "me", PID: 2}, Options{TTL: time.Minute})
	if o, _ := a.Acquire(ctx); o.Status != Acquired {
		t.Fatalf("a = %s", o.Status)
	}
	now = now.Add(29 * time.Minute)
	if o, _ := b.Acquire(ctx); o.Status != Held || o.Holder.RunID != "run-a" || !o.Holder.Expires().Equal(now.Add(time.Minute)) {
		t.Fatalf("b before expiry = %+v %+v", o, o.Holder)
	}
	if o, _ := a.Renew(ctx); o.Status != Renewed {
		t.Fatalf("a renew = %s", o.Status)
	}
	now = now.Add(30*time.Minute + time.Second)
	o, _ := b.Acquire(ctx)
	if o.Status != TookOver || o.Holder.RunID != "run-a" {
		t.Fatalf("b past expiry = %+v", o)
	}
	if o, _ := a.Renew(ctx); o.Status != Lost || o.Holder.RunID != "run-b" {
		t.Fatalf("a renew after takeover = %+v", o)
	}
	if o, _ := a.Release(ctx); o.Status != NotHeld {
		t.Fatalf("a release of b's lease = %s, want not-held", o.Status)
	}
	if h, ok := sim.Holder(); !ok || h.RunID != "run-b" {
		t.Fatalf("lease now %+v, want run-b's", h)
	}
}

func TestHolderStringEscapesHostText(t *testing.T) {
	h, ok := ParseHolder("run_id=r1\ncontroller=evil\x1b[2Jbox\nuser=\x07me\npid=12\nstarted=1764900000\nrenewed=1764900000\nttl=60\n")
	if !ok {
		t.Fatal("not parsed")
	}
	s := h.String()
	if strings.ContainsAny(s, "\x1b\x07") {
		t.Fatalf("control characters reach the terminal: %q", s)
	}
	if !strings.Contains(s, "pid 12") || !strings.Contains(s, "since 2025-12-05T") {
		t.Fatalf("holder = %q", s)
	}
}

func TestParseAnswerRefusesGarbage(t *testing.T) {
	for _, out := range []string{"", "sudo: a password is required\n", "acquired\nnow=x\n--\n", "pwned\nnow=1\n--\n"} {
		if _, err := parseAnswer([]byte(out)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: err = %v, want ErrProtocol", out, err)
		}
	}
}

func TestNewRefusesUnsafeRunID(t *testing.T) {
	for _, id := range []string{"", "a b", "x'; rm -rf /", strings.Repeat("a", 200)} {
		if _, err := New(simShell{}, Identity{RunID: id}, Options{}); err == nil {
			t.Errorf("run id %q accepted", id)
		}
	}
}

func TestWindowsScriptComposesForTheSimulator(t *testing.T) {
	req := Request{Op: opAcquire, Dir: WindowsDir, RunID: "r1", Record: "run_id=r1"}
	s := composeWindows(req)
	if !strings.HasPrefix(s, "# patchrun-script: "+WindowsScriptName+"\n") || !strings.Contains(s, "function Write-PatchrunResult") {
		t.Fatalf("composed script starts %q", s[:80])
	}
}
