//go:build unix

package lease

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/patchrun/patchrun/transport"
)

// TestWrappedCommand runs a command wrapped in the lease through real
// shells, as a host's root login shell gets it: the lease is taken, the
// command runs with its own output, exit status and umask, and the lease is
// released in the same round trip; a held host never runs the command.
func TestWrappedCommand(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the wrapped command runs the lease inline only as root (else via sudo -n)")
	}
	for _, sh := range []string{"dash", "bash"} {
		t.Run(sh, func(t *testing.T) {
			path, err := exec.LookPath(sh)
			if err != nil {
				t.Skipf("needs %s", sh)
			}
			h := newHostShell(t)
			tr := localShell{env: h.env(), sh: path}
			ctx := context.Background()
			a, _ := New(tr, Identity{RunID: "run-a", Controller: "ctl", User: "root", PID: 7}, Options{Dir: h.dir})
			run := func(l *Lease, line string) Wrapped {
				t.Helper()
				res, err := tr.Run(ctx, transport.Command{Line: l.WrapUnix(line)})
				if err != nil {
					t.Fatal(err)
				}
				w, err := l.SplitWrapped(res)
				if err != nil {
					t.Fatalf("%q: %v (stdout %q, stderr %q)", line, err, res.Stdout, res.Stderr)
				}
				return w
			}
			lock := filepath.Join(h.dir, "lock")

			umask := syscall.Umask(0o022)
			syscall.Umask(umask)
			w := run(a, `test -f `+shellQuote(lock)+` && echo held-while-running; umask; echo to-stderr >&2; exit 3`)
			if w.Acquire.Status != Acquired || w.Release == nil || w.Release.Status != Released {
				t.Fatalf("wrapped on a free host: acquire %+v release %+v, want acquired then released", w.Acquire, w.Release)
			}
			if got, want := string(w.Result.Stdout), fmt.Sprintf("held-while-running\n%04o\n", umask); got != want {
				t.Fatalf("command stdout = %q, want %q (the lease held while it ran, and its own umask)", got, want)
			}
			if string(w.Result.Stderr) != "to-stderr\n" || w.Result.ExitCode != 3 {
				t.Fatalf("command stderr %q exit %d, want its own", w.Result.Stderr, w.Result.ExitCode)
			}
			if _, err := os.Stat(lock); !os.IsNotExist(err) {
				t.Fatalf("lock after the wrapped command: %v, want released", err)
			}

			if w := run(a, `printf no-newline`); string(w.Result.Stdout) != "no-newline" || w.Release == nil {
				t.Fatalf("output without a final newline = %q (release %+v), want it unchanged", w.Result.Stdout, w.Release)
			}

			b, _ := New(tr, Identity{RunID: "run-b", Controller: "other", User: "root", PID: 8}, Options{Dir: h.dir})
			if o, err := b.Acquire(ctx); err != nil || o.Status != Acquired {
				t.Fatalf("b acquire: %+v %v", o, err)
			}
			ran := filepath.Join(t.TempDir(), "ran")
			w = run(a, `touch `+shellQuote(ran))
			if w.Acquire.Status != Held || w.Acquire.Holder == nil || w.Acquire.Holder.RunID != "run-b" || w.Release != nil {
				t.Fatalf("wrapped on a held host: %+v, want held by run-b and no release", w)
			}
			if _, err := os.Stat(ran); !os.IsNotExist(err) {
				t.Fatal("the command ran on a host another run holds")
			}
			if o, err := b.Release(ctx); err != nil || o.Status != Released {
				t.Fatalf("b release: %+v %v", o, err)
			}

			// A command that replaces the shell skips the EXIT trap: no
			// release answer, and the lease is still there to release.
			w = run(a, `exec echo replaced`)
			if w.Acquire.Status != Acquired || w.Release != nil || string(w.Result.Stdout) != "replaced\n" {
				t.Fatalf("exec in the command: %+v, want acquired, no release answer, its output", w)
			}
			if o, err := a.Release(ctx); err != nil || o.Status != Released {
				t.Fatalf("release after exec: %+v %v, want released", o, err)
			}
		})
	}
}
