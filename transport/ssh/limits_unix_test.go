//go:build unix

package ssh

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func mkfifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
