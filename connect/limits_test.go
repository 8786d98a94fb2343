package connect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/internal/fsread"
	"github.com/patchrun/patchrun/inventory"
)

// badInputs are paths no file reader may swallow: a directory, a file over
// limit (sparse, so it costs no disk) and, where there is one, /dev/zero;
// with what the error must say about each.
func badInputs(t *testing.T, limit int64) map[string][]string {
	t.Helper()
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(limit + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	in := map[string][]string{
		sub: {sub, "is a directory"},
		big: {big, "over the " + fsread.HumanSize(limit) + " limit"},
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		in["/dev/zero"] = []string{"/dev/zero", "not a regular file"}
	}
	return in
}

func wantMentions(t *testing.T, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

func TestSSHConfigFileIsCapped(t *testing.T) {
	for path, want := range badInputs(t, fsread.LimitConfig) {
		t.Run(path, func(t *testing.T) {
			wantMentions(t, NewDialer(Options{SSHConfig: path}).CheckSSHConfig(), want)
		})
	}
}

func TestWinRMCABundleIsCapped(t *testing.T) {
	for path, want := range badInputs(t, fsread.LimitCABundle) {
		t.Run(path, func(t *testing.T) {
			h := inventory.Host{Name: "win1", Address: "10.0.0.9", Transport: inventory.TransportWinRM, WinRM: &inventory.WinRMSettings{HTTPS: true, CACert: path}}
			_, err := NewDialer(Options{}).winrmConfig(h)
			wantMentions(t, err, append(want, "winrm_ca_cert"))
		})
	}
}
