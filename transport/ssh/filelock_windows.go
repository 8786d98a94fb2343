package ssh

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is where the lock lives: Windows locks are mandatory for the
// bytes they cover, so the lock covers one byte far past any real end of
// file, leaving the content readable while it is held.
var lockOffset = windows.Overlapped{Offset: 0xFFFFFFFF, OffsetHigh: 0x7FFFFFFF}

// lockFile takes a lock on f, exclusive or shared, waiting for other
// holders. Locks belong to the open handle, so two opens in one process
// exclude each other as two processes do.
func lockFile(f *os.File, exclusive bool) error {
	var flags uint32
	if exclusive {
		flags = windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	ol := lockOffset
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, &ol)
}

func unlockFile(f *os.File) error {
	ol := lockOffset
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}
