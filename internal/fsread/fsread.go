// Package fsread reads the local files patchrun is given (inventories, keys,
// password files, known_hosts, CA bundles, ssh_config, plans) with a size
// cap, so a path such as /dev/zero or a huge file fails at once with an error
// naming the path and the limit instead of exhausting memory.
package fsread

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Size caps for the kinds of file patchrun reads. They are far above any
// real file of the kind and far below what would hurt the controller.
const (
	LimitInventory  = 256 << 20 // a 1M-host inventory is about 100 MiB
	LimitKey        = 1 << 20   // private keys, certificates
	LimitSecret     = 64 << 10  // password files
	LimitKnownHosts = 64 << 20
	LimitConfig     = 4 << 20 // ssh_config, krb5.conf
	LimitCABundle   = 16 << 20
)

// ErrTooLarge is wrapped by the error for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// ErrNotRegular is wrapped by the error for a path that is not a regular
// file (a directory, a device, a socket; a FIFO unless allowed).
var ErrNotRegular = errors.New("not a regular file")

// Options tune ReadFile.
type Options struct {
	// AllowFIFO accepts a named pipe (e.g. a password handed over by
	// <(pass show x)); its size is still capped while reading.
	AllowFIFO bool
}

// ReadFile reads path, refusing anything but a regular file (or a FIFO when
// allowed) and anything larger than limit bytes. Errors name the path and,
// for size, the limit.
func ReadFile(path string, limit int64, opts ...Options) ([]byte, error) {
	var o Options
	for _, x := range opts {
		o = x
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := checkMode(path, fi.Mode(), o); err != nil {
		return nil, err
	}
	if fi.Mode().IsRegular() && fi.Size() > limit {
		return nil, tooLarge(path, limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Stat the open file too: the path may have been swapped meanwhile.
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkMode(path, fi.Mode(), o); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(path, limit)
	}
	return data, nil
}

// CheckRegular reports an error unless path names a regular file; for
// inputs opened later (known_hosts) so that a directory is refused at load.
func CheckRegular(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return checkMode(path, fi.Mode(), Options{})
}

func checkMode(path string, m fs.FileMode, o Options) error {
	switch {
	case m.IsRegular():
		return nil
	case m&fs.ModeNamedPipe != 0 && o.AllowFIFO:
		return nil
	case m.IsDir():
		return fmt.Errorf("%s: is a directory, want a file: %w", path, ErrNotRegular)
	default:
		return fmt.Errorf("%s: %w (mode %s)", path, ErrNotRegular, m.Type())
	}
}

func tooLarge(path string, limit int64) error {
	return fmt.Errorf("%s: %w: over the %s limit", path, ErrTooLarge, HumanSize(limit))
}

// HumanSize renders a byte count as the limits are documented (64 KiB,
// 256 MiB).
func HumanSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
