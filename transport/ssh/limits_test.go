package ssh

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/internal/fsread"
	"github.com/patchrun/patchrun/transport"
)

// sparseFile is a file of size bytes that takes no disk space.
func sparseFile(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return p
}

// Key files and known_hosts are read with a cap and must be regular
// files: /dev/zero or a huge file fails at once, naming the path and why.
func TestLocalFilesAreCapped(t *testing.T) {
	dir := t.TempDir()
	type input struct {
		name string
		path string
		want []string
	}
	inputs := []input{
		{"directory", dir, []string{dir, "is a directory"}},
		{"over the cap", "", nil}, // filled per reader below
	}
	if fifo := mkfifo(t); fifo != "" {
		inputs = append(inputs, input{"fifo", fifo, []string{fifo, "not a regular file"}})
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		inputs = append(inputs, input{"device", "/dev/zero", []string{"/dev/zero", "not a regular file"}})
	}
	readers := []struct {
		name  string
		limit int64
		read  func(path string) error
	}{
		{"private key", fsread.LimitKey, func(p string) error {
			_, err := readKeyFile(p)
			if err != nil && !errors.Is(err, transport.ErrAuth) {
				t.Errorf("key file error is not an auth error: %v", err)
			}
			return err
		}},
		{"known_hosts", fsread.LimitKnownHosts, func(p string) error {
			_, err := OpenKnownHosts(p, PolicyStrict)
			return err
		}},
	}
	for _, r := range readers {
		for _, in := range inputs {
			if in.name == "over the cap" {
				in.path = sparseFile(t, r.limit+1)
				in.want = []string{in.path, "over the " + fsread.HumanSize(r.limit) + " limit"}
			}
			t.Run(r.name+"/"+in.name, func(t *testing.T) {
				err := r.read(in.path)
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range in.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
			})
		}
	}
}
