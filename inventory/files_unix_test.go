//go:build unix

package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/patchrun/patchrun/internal/fsread"
)

// An inventory that is not a regular file is refused at once, naming the
// path: read whole, /dev/zero would grow until memory ran out.
func TestInventoryMustBeRegularFile(t *testing.T) {
	for _, p := range []string{"/dev/zero", t.TempDir()} {
		_, err := LoadInventory(p, newFixture(t).opts())
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("LoadInventory(%s) = %v, want an error naming the path", p, err)
		}
	}
	_, err := LoadInventory("/dev/zero", newFixture(t).opts())
	if !errors.Is(err, fsread.ErrNotRegular) {
		t.Errorf("/dev/zero: %v, want a not-a-regular-file error", err)
	}
}

// Devices and directories given as ssh_key, known_hosts or password_file
// are refused at load, naming file, line and key, not found at dial time.
func TestInputPathsMustBeFiles(t *testing.T) {
	f := newFixture(t)
	_, err := f.load("inventory.yaml", `hosts:
  - name: a
    password_file: /dev/zero
  - name: b
    ssh_key: /dev/zero
  - name: c
    known_hosts: .
  - name: d
    known_hosts: /dev/zero
`)
	want := []string{
		`inventory.yaml:3: hosts[0].password_file: password file /dev/zero: not a regular file (mode Dc---------) (hint: the file must hold the password on its first line; check the path and permissions)`,
		`inventory.yaml:5: hosts[1].ssh_key: /dev/zero: not a regular file (mode Dc---------) (hint: remove ssh_key to use ssh-agent and ~/.ssh/config instead)`,
		`inventory.yaml:7: hosts[2].known_hosts: known_hosts file ` + f.dir + ` is a directory, not a file (hint: give the path of a known_hosts file)`,
		`inventory.yaml:9: hosts[3].known_hosts: known_hosts file /dev/zero: not a regular file (mode Dc---------) (hint: give the path of a known_hosts file)`,
	}
	if got := errorLines(err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
}

// A known_hosts file that does not exist yet is fine: accept-new creates it.
func TestMissingKnownHostsAllowed(t *testing.T) {
	f := newFixture(t)
	inv := f.mustLoad("inventory.yaml", "defaults:\n  host_key_policy: accept-new\n  known_hosts: new/known_hosts\nhosts: [a]\n")
	if got := inv.Hosts[0].SSH.KnownHosts; got != filepath.Join(f.dir, "new/known_hosts") {
		t.Errorf("known_hosts = %q", got)
	}
}

// A password handed over through a named pipe (password_file: <(pass show x))
// is read like a file.
func TestPasswordFileFromPipe(t *testing.T) {
	f := newFixture(t)
	pipe := filepath.Join(f.dir, "pw.fifo")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(pipe, os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		_, err = w.WriteString("s3cret\n")
		w.Close()
		done <- err
	}()
	inv := f.mustLoad("inventory.yaml", "hosts:\n  - name: a\n    password_file: pw.fifo\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := inv.Hosts[0].Password.Reveal(); got != "s3cret" {
		t.Errorf("password = %q", got)
	}
}
