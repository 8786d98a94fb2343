package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// startFleet starts a fleet that the test's cleanup closes.
func startFleet(t *testing.T, cfg Config) *Fleet {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	f, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// runLocal runs a command line through the host's shell without SSH.
func runLocal(t *testing.T, h *SimHost, line string) (stdout, stderr string, code int) {
	t.Helper()
	h.mu.Lock()
	bootCtx := h.bootCtx
	h.mu.Unlock()
	var out, errb bytes.Buffer
	sh := h.newShell(&session{bgCtx: bootCtx}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code = sh.runLine(ctx, line, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return out.String(), errb.String(), code
}

// dial opens an SSH client to the named host.
func dial(t *testing.T, f *Fleet, name string) (*ssh.Client, error) {
	t.Helper()
	cfg := f.ClientConfig()
	cfg.Timeout = 2 * time.Second
	return ssh.Dial("tcp", f.Host(name).Addr(), cfg)
}

// runSSH runs one command over a fresh session of c.
func runSSH(c *ssh.Client, line string) (stdout, stderr string, code int, err error) {
	s, err := c.NewSession()
	if err != nil {
		return "", "", -1, err
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr = &out, &errb
	err = s.Run(line)
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitStatus(), nil
	}
	if err != nil {
		return out.String(), errb.String(), -1, err
	}
	return out.String(), errb.String(), 0, nil
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		timer := time.NewTimer(2 * time.Millisecond)
		<-timer.C
	}
}

// eventLog collects the fleet's Logf lines.
type eventLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *eventLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// has reports whether some line contains s.
func (l *eventLog) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// rebootScheduled reports whether a reboot is pending (shutdown -r +N).
func (h *SimHost) rebootScheduled() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rebootSet != nil
}
