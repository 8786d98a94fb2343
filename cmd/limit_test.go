package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
