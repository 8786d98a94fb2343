// Package state is patchrun's state directory: where it is, creating it
// private (0700), the run ids that name the runs recorded in it, and the
// file locks that tell a live run from a dead one.
//
// Layout (see docs/journal.md):
//
//	<state-dir>/runs/<run-id>/journal.jsonl  the run journal
//	<state-dir>/runs/<run-id>/lock           held (flock) while the run is live
//	<state-dir>/locks/<sha256>.lock          one inventory's local guard
package state

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"time"
)

// Env is what Default reads from the environment (os.Getenv in the CLI).
type Env struct {
	Getenv func(string) string
	// GOOS and UID are the platform and effective user id; zero values
	// mean the running process's (UID -1 on Windows).
	GOOS string
	UID  int
}

// Default is the state directory when --state-dir is not given:
// $XDG_STATE_HOME/patchrun, else ~/.local/state/patchrun; on Windows
// %LOCALAPPDATA%\patchrun; as root with no HOME (a systemd service)
// /var/lib/patchrun.
func Default(env Env) (string, error) {
	goos := env.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	get := env.Getenv
	if get == nil {
		get = os.Getenv
	}
	if goos == "windows" {
		if d := get("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "patchrun"), nil
		}
		return "", errors.New("no state directory: %LOCALAPPDATA% is not set (hint: --state-dir DIR)")
	}
	if d := get("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "patchrun"), nil
	}
	if home := get("HOME"); home != "" {
		return filepath.Join(home, ".local", "state", "patchrun"), nil
	}
	if env.UID == 0 {
		return "/var/lib/patchrun", nil
	}
	return "", errors.New("no state directory: neither XDG_STATE_HOME nor HOME is set (hint: --state-dir DIR)")
}

// Ensure creates dir (and its parents) if needed, mode 0700, and checks it
// is a directory patchrun can write. The error names the flag and a fix.
func Ensure(dir string) error {
	if dir == "" {
		return errors.New("--state-dir: empty path (hint: --state-dir DIR, or leave it out for the default)")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("--state-dir %s: cannot create it: %w (hint: pick a writable directory with --state-dir)", dir, unwrapPath(err))
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--state-dir %s: %w", dir, unwrapPath(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("--state-dir %s: not a directory (hint: pick a directory with --state-dir)", dir)
	}
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("--state-dir %s: not writable: %w (hint: pick a writable directory with --state-dir)", dir, unwrapPath(err))
	}
	probe.Close()
	_ = os.Remove(probe.Name())
	return nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// RunsDir is where the runs' directories are.
func RunsDir(stateDir string) string { return filepath.Join(stateDir, "runs") }

// RunDir is one run's directory.
func RunDir(stateDir, runID string) string { return filepath.Join(RunsDir(stateDir), runID) }

// LocksDir holds the per-inventory guards.
func LocksDir(stateDir string) string { return filepath.Join(stateDir, "locks") }

// runIDLayout is the time part of a run id: UTC, to the second, so ids
// sort by start time as strings.
const runIDLayout = "20060102T150405Z"

var runIDRE = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4,}$`)

// NewRunID names a run started at now: "20261205T021500Z-3f9c" (UTC time,
// then a random suffix so two runs in the same second differ).
func NewRunID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format(runIDLayout) + "-" + hex.EncodeToString(b[:])
}

// ValidRunID reports whether id has the shape NewRunID gives; a run id
// from the command line is checked with it before it names a path.
func ValidRunID(id string) bool { return runIDRE.MatchString(id) }

// RunIDTime is the start time encoded in a run id.
func RunIDTime(id string) (time.Time, bool) {
	if len(id) < len(runIDLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(runIDLayout, id[:len(runIDLayout)])
	return t, err == nil
}
