//go:build unix

package lease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
			if w.Before.Status != Acquired || w.After == nil || w.After.Status != Released {
				t.Fatalf("wrapped on a free host: acquire %+v release %+v, want acquired then released", w.Before, w.After)
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

			// Exit status 0: the release is the shell's last act (exec rm).
			if w := run(a, `printf no-newline`); string(w.Result.Stdout) != "no-newline" || w.After == nil || w.After.Status != Released || w.Result.ExitCode != 0 {
				t.Fatalf("output without a final newline = %q exit %d (release %+v), want it unchanged, exit 0, released", w.Result.Stdout, w.Result.ExitCode, w.After)
			}
			if _, err := os.Stat(lock); !os.IsNotExist(err) {
				t.Fatalf("lock after a command that exited 0: %v, want released", err)
			}
			if _, err := os.Stat(lock + ".guard"); !os.IsNotExist(err) {
				t.Fatalf("guard after a command that exited 0: %v, want none", err)
			}

			b, _ := New(tr, Identity{RunID: "run-b", Controller: "other", User: "root", PID: 8}, Options{Dir: h.dir})
			if o, err := b.Acquire(ctx); err != nil || o.Status != Acquired {
				t.Fatalf("b acquire: %+v %v", o, err)
			}
			ran := filepath.Join(t.TempDir(), "ran")
			w = run(a, `touch `+shellQuote(ran))
			if w.Before.Status != Held || w.Before.Holder == nil || w.Before.Holder.RunID != "run-b" || w.After != nil {
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
			if w.Before.Status != Acquired || w.After != nil || string(w.Result.Stdout) != "replaced\n" {
				t.Fatalf("exec in the command: %+v, want acquired, no release answer, its output", w)
			}
			if o, err := a.Release(ctx); err != nil || o.Status != Released {
				t.Fatalf("release after exec: %+v %v, want released", o, err)
			}
		})
	}
}

// TestRenewFirst renews the lease in the round trip of the next command:
// the command runs while the lease is ours, and not once another run took
// it.
func TestRenewFirst(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the lease runs inline only as root (else via sudo -n)")
	}
	h := newHostShell(t)
	tr := localShell{env: h.env(), sh: h.sh}
	ctx := context.Background()
	a, _ := New(tr, Identity{RunID: "run-a"}, Options{Dir: h.dir, TTL: time.Minute})
	if o, err := a.Acquire(ctx); err != nil || o.Status != Acquired {
		t.Fatalf("acquire: %+v %v", o, err)
	}
	t0 := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	h.setClock(t0.Add(50 * time.Second))
	rf := &RenewFirst{Transport: tr, Lease: a}
	res, err := rf.Run(ctx, transport.Command{Line: "echo first; exit 4"})
	if err != nil || string(res.Stdout) != "first\n" || res.ExitCode != 4 || rf.Renewal == nil || rf.Renewal.Status != Renewed {
		t.Fatalf("first command = %q exit %d, %v, renewal %+v; want its own result after a renewal", res.Stdout, res.ExitCode, err, rf.Renewal)
	}
	if res, err := rf.Run(ctx, transport.Command{Line: "echo second"}); err != nil || string(res.Stdout) != "second\n" {
		t.Fatalf("second command = %q %v, want it passed through", res.Stdout, err)
	}
	// 50 s after the renewal the minute TTL still holds: another run
	// cannot take it; past it, run-b takes over and run-a's next renewal
	// keeps its command from running.
	h.setClock(t0.Add(50*time.Second + 61*time.Second))
	b, _ := New(tr, Identity{RunID: "run-b"}, Options{Dir: h.dir})
	if o, err := b.Acquire(ctx); err != nil || o.Status != TookOver {
		t.Fatalf("b acquire: %+v %v", o, err)
	}
	ran := filepath.Join(t.TempDir(), "ran")
	rf = &RenewFirst{Transport: tr, Lease: a}
	_, err = rf.Run(ctx, transport.Command{Line: "touch " + shellQuote(ran)})
	if !errors.Is(err, ErrNotRenewed) || rf.Renewal == nil || rf.Renewal.Status != Lost || rf.Renewal.Holder.RunID != "run-b" {
		t.Fatalf("after a takeover: %v, renewal %+v; want ErrNotRenewed, lost to run-b", err, rf.Renewal)
	}
	if _, err := os.Stat(ran); !os.IsNotExist(err) {
		t.Fatal("the command ran on a lease another run holds")
	}
}

// TestNonRootLoginGoesThroughSudo runs the command lines as a non-root
// login would (id says 1000): every lease operation goes through `sudo -n
// sh`, here a stand-in that checks it was asked not to prompt, while the
// wrapped command itself runs as the login.
func TestNonRootLoginGoesThroughSudo(t *testing.T) {
	h := newHostShell(t) // dash: no $EUID, so the lines ask id(1)
	sudoLog := filepath.Join(h.bin, "sudo.log")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(h.bin, name), []byte("#!/bin/sh\n"+body), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write("id", "echo 1000\n")
	write("sudo", `[ "$1" = -n ] || { echo "sudo without -n" >&2; exit 1; }
shift
echo sudo >> `+shellQuote(sudoLog)+`
exec "$@"
`)
	tr := localShell{env: h.env(), sh: h.sh}
	ctx := context.Background()
	a, _ := New(tr, Identity{RunID: "run-a", Controller: "it's", User: "deploy"}, Options{Dir: h.dir})
	if o, err := a.Acquire(ctx); err != nil || o.Status != Acquired {
		t.Fatalf("acquire through sudo: %+v %v", o, err)
	}
	if o, err := a.Release(ctx); err != nil || o.Status != Released {
		t.Fatalf("release through sudo: %+v %v", o, err)
	}
	res, err := tr.Run(ctx, transport.Command{Line: a.WrapUnix(`echo "ran as $(id -u)"; exit 0`)})
	if err != nil {
		t.Fatal(err)
	}
	w, err := a.SplitWrapped(res)
	if err != nil || w.Before.Status != Acquired || w.After == nil || w.After.Status != Released || string(w.Result.Stdout) != "ran as 1000\n" {
		t.Fatalf("wrapped through sudo: %+v %v (stderr %q)", w, err, res.Stderr)
	}
	b, _ := os.ReadFile(sudoLog)
	if n := strings.Count(string(b), "sudo"); n != 4 {
		t.Errorf("sudo ran %d times, want 4 (acquire, release, and both around the wrapped command)", n)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "lock")); !os.IsNotExist(err) {
		t.Fatalf("lock left: %v", err)
	}
}
