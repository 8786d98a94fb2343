package cmd

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Inventory mistakes stop the run with exit 1 and name what is wrong:
// a key written twice (YAML would keep the last, silently dropping hosts),
// and a path that is no file (read whole, /dev/zero never ends).
func TestBadInventoryInputRefused(t *testing.T) {
	dir := t.TempDir()
	dup := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(dup, []byte("hosts: [a]\nhosts: [b]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{dup: dup + ":2: hosts: duplicate key"}
	if runtime.GOOS != "windows" {
		cases["/dev/zero"] = "/dev/zero: not a regular file"
	}
	for path, want := range cases {
		r := runCLI(t, nil, "inventory", "-i", path)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, want) || r.stdout != "" {
			t.Errorf("-i %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", path, r.code, r.stdout, r.stderr, want)
		}
	}
}

// -l "$UNSET_VAR" must not become a fleet-wide run: an empty or blank
// pattern is refused before anything is contacted.
func TestEmptyLimitRefused(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "hosts.txt")
	if err := os.WriteFile(inv, []byte("web1\nweb2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{"", "~", " , "} {
		r := runCLI(t, nil, "inventory", "-i", inv, "-l", pattern)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, "--limit") || r.stdout != "" {
			t.Errorf("-l %q: exit %d, stdout %q, stderr %q; want exit 1 naming --limit", pattern, r.code, r.stdout, r.stderr)
		}
	}
	if r := runCLI(t, nil, "inventory", "-i", inv); r.code != ExitOK {
		t.Errorf("no -l: exit %d: %s", r.code, r.stderr)
	}
}
