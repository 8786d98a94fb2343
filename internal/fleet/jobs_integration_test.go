package fleet_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/unix"
	"github.com/patchrun/patchrun/transport"
	sshtr "github.com/patchrun/patchrun/transport/ssh"
)

// jobFleet starts one Debian host and returns it with a dialer for it.
func jobFleet(t *testing.T, ctx context.Context, cfg fleet.Config) (*fleet.SimHost, func() transport.Transport) {
	t.Helper()
	cfg.Hosts = []fleet.HostSpec{{Name: "h1", Distro: fleet.Debian12, Faults: cfg.Faults}}
	cfg.TimeScale, cfg.Seed = 0.001, 5
	sim, dial, _ := dialer(t, ctx, cfg)
	return sim, dial
}

// dialer starts a fleet whose first host is "h1" and returns that host and
// two functions that open a new SSH connection to it (closed at cleanup):
// one fails the test when it cannot, one returns the error.
func dialer(t *testing.T, ctx context.Context, cfg fleet.Config) (*fleet.SimHost, func() transport.Transport, func() (transport.Transport, error)) {
	t.Helper()
	f, err := fleet.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	dir := t.TempDir()
	if _, err := f.WriteInventory(dir); err != nil {
		t.Fatal(err)
	}
	kh, err := sshtr.OpenKnownHosts(filepath.Join(dir, fleet.KnownHostsFile), "strict")
	if err != nil {
		t.Fatal(err)
	}
	scfg := sshtr.Config{
		Address: "127.0.0.1", Port: f.Port("h1"), User: "root",
		KeyFiles: []string{filepath.Join(dir, fleet.KeyFile)}, HostKeys: kh,
		ConnectTimeout: time.Second, HandshakeTimeout: 2 * time.Second,
	}
	dialE := func() (transport.Transport, error) {
		c, err := sshtr.Dial(ctx, scfg)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return c, err
	}
	return f.Host("h1"), func() transport.Transport {
		t.Helper()
		c, err := dialE()
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		return c
	}, dialE
}

// installCount counts the package-manager transactions the host ran.
func installCount(h *fleet.SimHost) int {
	n := 0
	for _, c := range h.CommandsSeen() {
		if strings.Contains(c, "apt-get -y") && !strings.Contains(c, "patchrun-job") {
			n++
		}
	}
	return n
}

// The connection drops in the middle of an install: the transaction goes
// on detached; re-attaching over a new connection follows the same job to
// its real end, whether it is still running then or finished while
// nobody was connected. Its files are gone once the result is read.
func TestDetachedInstallSurvivesDroppedLink(t *testing.T) {
	for _, tt := range []struct {
		name        string
		installTime time.Duration
		running     bool
	}{
		{"finished while disconnected", 0, false},
		{"still running on re-attach", 150 * time.Millisecond, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			sim, dial := jobFleet(t, ctx, fleet.Config{InstallTime: tt.installTime, Faults: fleet.Faults{DropDuringInstall: 1}})
			tr := dial()
			b, err := unix.Detect(ctx, tr, unix.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ups, err := b.Scan(ctx, tr)
			if err != nil || len(ups) == 0 {
				t.Fatalf("scan: %v %v", ups, err)
			}
			_, err = b.Install(ctx, tr, ups, true)
			var lost *patch.JobLostError
			if !errors.As(err, &lost) || !errors.Is(err, transport.ErrConnLost) {
				t.Fatalf("want a lost link to a running job, got %v", err)
			}
			if !tt.running {
				for len(sim.RunningJobs()) > 0 && ctx.Err() == nil {
					time.Sleep(time.Millisecond) // let the detached job finish on its own
				}
			} else if r := sim.RunningJobs(); len(r) != 1 || r[0] != lost.Job {
				t.Fatalf("running jobs %v; want %s still running", r, lost.Job)
			}

			// Meanwhile another run cannot start a second transaction.
			if tt.running {
				other, err := unix.Detect(ctx, dial(), unix.Options{})
				if err != nil {
					t.Fatal(err)
				}
				_, err = other.Install(ctx, dial(), ups, true)
				if err == nil || !strings.Contains(err.Error(), lost.Job+" is still running") {
					t.Fatalf("second install: %v; want refused while %s runs", err, lost.Job)
				}
			}

			res, err := b.(patch.Reattacher).ReattachInstall(ctx, dial(), lost.Job, ups, true)
			if err != nil {
				t.Fatalf("re-attach: %v", err)
			}
			for _, u := range res.Updates {
				if !u.Installed {
					t.Errorf("%s not installed: %s", u.Name, u.Error)
				}
			}
			if p := sim.Pending(); len(p) != 0 {
				t.Errorf("still pending: %+v", p)
			}
			if n := installCount(sim); n != 1 {
				t.Errorf("%d transactions ran; want exactly 1", n)
			}
			if j := sim.Jobs(); len(j) != 0 {
				t.Errorf("job files left after the result was read: %v", j)
			}
		})
	}
}
