//go:build unix

package cmd

import (
	"os"

	"golang.org/x/sys/unix"
)

// createNoFollow opens path for writing, creating it 0600, without
// following a symbolic link at its last component (the kernel refuses
// one, so a link swapped in after a check is refused too) and without
// blocking on a FIFO. Nothing is truncated here.
func createNoFollow(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
