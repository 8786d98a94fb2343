//go:build linux

package unix

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/patch"
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

// The boot id read after a reboot carries the scan, in real shell: on a
// boot other than the one named it returns what Scan alone returns; on
// the same boot it does not scan; a scan that fails is the scan's error,
// with the boot id still read.
func TestBootStateScanOnThisMachine(t *testing.T) {
	if _, err := os.Stat("/usr/bin/apt-get"); err != nil {
		t.Skip("no apt-get on this machine")
	}
	ctx := context.Background()
	b, err := Detect(ctx, localShell{}, Options{})
	if err != nil || b.Name() != "apt" {
		t.Skipf("this machine's backend is %v (%v), not apt", b, err)
	}
	bootID, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	id := strings.TrimSpace(string(bootID))
	alone, err := b.Scan(ctx, localShell{})
	if err != nil {
		t.Fatal(err)
	}
	bs := b.(patch.BootStater)
	st, err := bs.BootState(ctx, localShell{}, patch.BootQuery{Scan: true, Before: "an-older-boot"})
	if err != nil || st.ID != id || !st.Signals || !st.Scanned || st.ScanErr != nil || !reflect.DeepEqual(st.Updates, alone) {
		t.Fatalf("new boot: %+v, %v; want boot %s scanned, updates %v", st, err, id, alone)
	}
	st, err = bs.BootState(ctx, localShell{}, patch.BootQuery{Scan: true, Before: id})
	if err != nil || st.ID != id || !st.Signals || st.Scanned || st.Updates != nil {
		t.Fatalf("same boot: %+v, %v; want the id and signals, no scan", st, err)
	}

	h := b.(*aptBackend).host
	failing := scanCommand{what: "apt-get -s dist-upgrade", line: "(echo 'E: broken' >&2; exit 100)", parse: parseIfZero(parseAptSimulation)}
	st, err = h.fileBootState(ctx, localShell{}, patch.BootQuery{Scan: true, Before: "an-older-boot"}, failing)
	if err != nil || st.ID != id || !st.Scanned || !errors.Is(st.ScanErr, patch.ErrCommandFailed) || !strings.Contains(st.ScanErr.Error(), "E: broken") {
		t.Fatalf("failing scan: %+v, %v; want the id, and the scan's failure with its stderr", st, err)
	}
}
