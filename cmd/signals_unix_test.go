//go:build unix

package cmd

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The first Ctrl-C must only stop scheduling (stop closes, ctx stays live);
// the second must cancel.
func TestInterruptsTwoStages(t *testing.T) {
	var errOut syncBuffer
	ctx, stop, release := interrupts(context.Background(), &errOut)
	defer release()

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stop:
	case <-time.After(10 * time.Second):
		t.Fatal("first SIGINT did not close stop")
	}
	if ctx.Err() != nil {
		t.Fatal("first SIGINT cancelled the context; in-flight installs would be killed")
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("second SIGINT did not cancel the context")
	}
	out := errOut.String()
	if !strings.Contains(out, "in-flight installs and reboots are finishing") || !strings.Contains(out, "aborting") {
		t.Errorf("interrupt messages missing from stderr: %q", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the signal goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
