package fsread

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadFileRefusesDevZeroQuickly(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero on this system")
	}
	start := time.Now()
	_, err := ReadFile("/dev/zero", LimitInventory)
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "/dev/zero") {
		t.Fatalf("err = %v, want a not-a-regular-file error naming /dev/zero", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusing /dev/zero took %v", d)
	}
}

func TestReadFileLimits(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte(strings.Repeat("x", 2048)), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 2048); err != nil || len(b) != 2048 {
		t.Fatalf("at the limit: %d bytes, %v", len(b), err)
	}
	_, err := ReadFile(p, 1024)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "1 KiB") {
		t.Fatalf("over the limit: %v, want ErrTooLarge naming the path and 1 KiB", err)
	}
	if _, err := ReadFile(dir, 1024); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("directory: %v", err)
	}
	if err := CheckRegular(dir); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("CheckRegular(dir) = %v", err)
	}
}
