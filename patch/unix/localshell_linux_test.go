//go:build linux

package unix

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/transport"
)

// localShell runs command lines with this machine's /bin/sh, as sshd would
// on a real host: proof that the probes are valid shell and parse on a
// real Linux system. Used by one test goroutine only.
type localShell struct{}

func (localShell) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	var out, errb bytes.Buffer
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd.Line)
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return transport.Result{}, err
	}
	return transport.Result{ExitCode: c.ProcessState.ExitCode(), Stdout: out.Bytes(), Stderr: errb.Bytes()}, nil
}
func (localShell) Upload(context.Context, string, io.Reader, int64) error {
	return errors.ErrUnsupported
}
func (localShell) Close() error { return nil }

func TestProbesOnThisMachine(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	ctx := context.Background()
	res, err := localShell{}.Run(ctx, transport.Command{Line: CmdProbe})
	if err != nil {
		t.Fatal(err)
	}
	p := parseProbe(string(res.Stdout))
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	bootID, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if p.kernel != strings.TrimSpace(string(kernel)) || p.bootID != strings.TrimSpace(string(bootID)) || p.uid == "" {
		t.Fatalf("probe parsed %+v from %q", p, res.Stdout)
	}
	// On the Debian build machine (apt-get, plus dnf and zypper installed
	// for captures) Detect must still pick apt.
	if _, err := os.Stat("/usr/bin/apt-get"); err == nil && p.os.Family() == "debian" {
		b, err := Detect(ctx, localShell{}, Options{})
		if err != nil || b.Name() != "apt" {
			t.Fatalf("detect on this machine: %v %v", b, err)
		}
		// The real reboot-signal probe runs and parses; whatever it says,
		// a reason is never an empty string.
		_, reasons, err := b.RebootRequired(ctx, localShell{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reasons {
			if r == "" {
				t.Fatal("empty reason")
			}
		}
	}
}
