//go:build !unix

package cmd

import "os"

// createNoFollow opens path for writing, creating it 0600. Without
// O_NOFOLLOW a link swapped in between openEvents' Lstat and this open is
// not caught; the file's identity is still checked against the run's
// inputs after the open.
func createNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
}
