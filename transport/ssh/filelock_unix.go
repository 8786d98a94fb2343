//go:build unix && !aix

package ssh

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an advisory lock on f, exclusive or shared, waiting for
// other holders. Locks belong to the open file, so two opens in one process
// exclude each other as two processes do.
func lockFile(f *os.File, exclusive bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_UN) }
