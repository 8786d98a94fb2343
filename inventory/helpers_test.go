package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a temporary inventory directory with a fake home, a fixed
// current user and a fake environment, so no test depends on who runs it.
type fixture struct {
	t    *testing.T
	dir  string
	home string
	env  map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{t: t, dir: filepath.Join(root, "inv"), home: filepath.Join(root, "home"), env: map[string]string{}}
	for _, d := range []string{f.dir, f.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// write creates a file under the inventory directory ("~/x" goes under
// home) and returns its path.
func (f *fixture) write(name, content string, mode os.FileMode) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if rest, ok := strings.CutPrefix(name, "~/"); ok {
		p = filepath.Join(f.home, rest)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // umask must not change what the test means
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) opts() LoadOptions {
	return LoadOptions{
		Getenv:      func(k string) string { return f.env[k] },
		Home:        f.home,
		DefaultUser: "tester",
	}
}

// load writes content as name and loads it.
func (f *fixture) load(name, content string) (Inventory, error) {
	f.t.Helper()
	p := f.write(name, content, 0o644)
	return LoadInventory(p, f.opts())
}

// mustLoad loads and fails the test on any error.
func (f *fixture) mustLoad(name, content string) Inventory {
	f.t.Helper()
	inv, err := f.load(name, content)
	if err != nil {
		f.t.Fatalf("load %s: %v", name, err)
	}
	return inv
}

// errorLines renders every *Error in err with the file path shortened to
// its base name, so expectations read like what a user sees.
func errorLines(err error) []string {
	var out []string
	for _, e := range Errors(err) {
		c := *e
		c.File = filepath.Base(c.File)
		out = append(out, c.Error())
	}
	return out
}

// warningLines renders inv's warnings as errorLines renders errors.
func warningLines(inv Inventory) []string {
	var out []string
	for _, w := range inv.Warnings {
		c := *w
		c.File = filepath.Base(c.File)
		out = append(out, c.Error())
	}
	return out
}

func hostByName(t *testing.T, hosts []Host, name string) Host {
	t.Helper()
	for _, h := range hosts {
		if h.Name == name {
			return h
		}
	}
	t.Fatalf("host %q not found", name)
	return Host{}
}

func names(hosts []Host) string {
	var out []string
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return strings.Join(out, ",")
}
