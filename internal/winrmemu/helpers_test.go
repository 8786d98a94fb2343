package winrmemu_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winrmemu"
)

const (
	testUser = "vagrant"
	testPass = "Secr3t-Passw0rd!"
)

// startServer starts an emulator with one user and closes it (joining all
// its goroutines) when the test ends.
func startServer(t *testing.T, cfg winrmemu.Config) *winrmemu.Server {
	t.Helper()
	if cfg.Users == nil {
		cfg.Users = map[string]string{testUser: testPass}
	}
	s, err := winrmemu.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func hostPort(t *testing.T, s *winrmemu.Server) (string, int) {
	t.Helper()
	host, portStr, err := net.SplitHostPort(s.Addr())
	if err != nil {
		t.Fatalf("addr %q: %v", s.Addr(), err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		t.Fatalf("port %q: %v", portStr, err)
	}
	return host, port
}

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("condition not met within 5s")
		}
	}
}
