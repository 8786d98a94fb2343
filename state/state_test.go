package state

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultFollowsXDGThenHomeThenRootService(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  Env
		want string
		err  string
	}{
		{"xdg", Env{GOOS: "linux", UID: 1000, Getenv: envOf(map[string]string{"XDG_STATE_HOME": "/x/state", "HOME": "/home/u"})}, "/x/state/patchrun", ""},
		{"relative xdg is ignored", Env{GOOS: "linux", UID: 1000, Getenv: envOf(map[string]string{"XDG_STATE_HOME": "rel", "HOME": "/home/u"})}, "/home/u/.local/state/patchrun", ""},
		{"home", Env{GOOS: "linux", UID: 1000, Getenv: envOf(map[string]string{"HOME": "/home/u"})}, "/home/u/.local/state/patchrun", ""},
		{"root service", Env{GOOS: "linux", UID: 0, Getenv: envOf(nil)}, "/var/lib/patchrun", ""},
		{"user without home", Env{GOOS: "linux", UID: 1000, Getenv: envOf(nil)}, "", "--state-dir"},
		{"windows", Env{GOOS: "windows", UID: -1, Getenv: envOf(map[string]string{"LOCALAPPDATA": `C:\Users\u\AppData\Local`, "HOME": "/home/u"})}, filepath.Join(`C:\Users\u\AppData\Local`, "patchrun"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Default(tc.env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Default = %q, %v; want an error naming %s", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Default = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestEnsureCreatesPrivateDirAndRefusesAFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "state")
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v, want 0700", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("Ensure left %d files behind", len(ents))
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if err := Ensure(file); err == nil || !strings.Contains(err.Error(), "--state-dir") {
		t.Errorf("Ensure(a file) = %v, want an error naming --state-dir", err)
	}
}

func TestRunIDsSortByTimeAndDiffer(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 2, 15, 0, 0, time.FixedZone("X", 3600))
	a := NewRunID(t0)
	if !strings.HasPrefix(a, "20261205T011500Z-") || !ValidRunID(a) {
		t.Fatalf("run id %q: want UTC time 20261205T011500Z- and a suffix", a)
	}
	if tm, ok := RunIDTime(a); !ok || !tm.Equal(t0) {
		t.Errorf("RunIDTime(%q) = %v, %v", a, tm, ok)
	}
	seen := map[string]bool{}
	var ids []string
	for i := range 50 {
		id := NewRunID(t0.Add(time.Duration(i%3) * time.Second))
		seen[id] = true
		ids = append(ids, id)
	}
	if len(seen) < 40 {
		t.Errorf("only %d distinct ids of 50", len(seen))
	}
	sort.Strings(ids)
	if !strings.HasPrefix(ids[0], "20261205T011500Z") || !strings.HasPrefix(ids[49], "20261205T011502Z") {
		t.Errorf("ids do not sort by time: %s … %s", ids[0], ids[49])
	}
	for _, bad := range []string{"", "../x", "20261205T011500Z", "20261205T011500Z-", "20261205T011500Z-zz/"} {
		if ValidRunID(bad) {
			t.Errorf("ValidRunID(%q) = true", bad)
		}
	}
}

func TestTryLockRefusesASecondHolderUntilReleased(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.lock")
	l, err := TryLock(p, []byte("run A\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(p, []byte("run B\n")); !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLock = %v, want ErrLocked", err)
	}
	if !IsLocked(p) {
		t.Error("IsLocked = false while held")
	}
	if b, _ := os.ReadFile(p); string(b) != "run A\n" {
		t.Errorf("holder text %q; the refused attempt must not overwrite it", b)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if IsLocked(p) {
		t.Error("IsLocked = true after Unlock")
	}
	l2, err := TryLock(p, []byte("run B\n"))
	if err != nil {
		t.Fatalf("TryLock after release: %v", err)
	}
	defer l2.Unlock()
	if IsLocked(filepath.Join(t.TempDir(), "missing")) {
		t.Error("a missing lock file reads as locked")
	}
}
