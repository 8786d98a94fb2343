//go:build unix

package fsread

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFileFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := ReadFile(p, 10); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("FIFO without AllowFIFO: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString(strings.Repeat("s", 20))
		f.Close()
	}()
	_, err := ReadFile(p, 10, Options{AllowFIFO: true})
	<-done
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized FIFO: %v, want ErrTooLarge", err)
	}
}
