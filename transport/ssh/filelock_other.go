//go:build (!unix && !windows) || aix

package ssh

import "os"

// lockFile does nothing where the OS has no flock: appends are then
// serialised within this process only.
func lockFile(*os.File, bool) error { return nil }

func unlockFile(*os.File) error { return nil }
