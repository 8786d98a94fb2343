package state

import (
	"errors"
	"fmt"
	"os"
)

// ErrLocked is returned by TryLock when another live process holds the
// lock.
var ErrLocked = errors.New("locked by another process")

// Lock is a held advisory lock on a file (flock on Unix, LockFileEx on
// Windows). The operating system drops it when the process dies, however
// it dies, so a held lock always means a live holder.
type Lock struct {
	f *os.File
}

// TryLock opens (creating, 0600) path and takes its exclusive lock without
// waiting. When another process holds it, the error wraps ErrLocked. With
// holder set, the file's content is replaced by it (who holds the lock, for
// the next one to be told).
func TryLock(path string, holder []byte) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := tryLockFile(f); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if holder != nil {
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt(holder, 0)
		}
	}
	return &Lock{f: f}, nil
}

// IsLocked reports whether some live process holds path's lock. A missing
// file is not locked.
func IsLocked(path string) bool {
	if _, err := os.Stat(path); err != nil {
		return false
	}
	l, err := TryLock(path, nil)
	if err != nil {
		return errors.Is(err, ErrLocked)
	}
	l.Unlock()
	return false
}

// Unlock releases the lock and closes the file; the file stays.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
