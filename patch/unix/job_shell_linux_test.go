//go:build linux

package unix

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// jobShell runs job.sh with this machine's /bin/sh, as sshd would run a
// job line on a host, with the jobs' directory in a temp dir and a PATH
// without systemd-run (the setsid nohup launcher the lab uses). With
// busybox, sh and every tool are busybox applets, as on Alpine (OpenRC,
// no systemd).
type jobShell struct {
	t   *testing.T
	dir string
	sh  string
	env []string
}

func newJobShell(t *testing.T, busybox bool) *jobShell {
	t.Helper()
	bin := t.TempDir()
	bb, applets := "", map[string]bool{}
	if busybox {
		var err error
		if bb, err = exec.LookPath("busybox"); err != nil {
			t.Skip("no busybox on this machine")
		}
		list, err := exec.Command(bb, "--list").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range strings.Fields(string(list)) {
			applets[a] = true
		}
	}
	for _, p := range []string{"sh", "mkdir", "chmod", "cat", "rm", "rmdir", "tail", "mv", "setsid", "nohup", "sleep"} {
		// An applet this busybox build lacks (Debian's has no nohup;
		// Alpine's has) comes from the system.
		path, err := exec.LookPath(p)
		if applets[p] {
			path = bb
		} else if err != nil {
			t.Skipf("no %s on this machine", p)
		}
		if err := os.Symlink(path, filepath.Join(bin, p)); err != nil {
			t.Fatal(err)
		}
	}
	sh := "/bin/sh"
	if bb != "" {
		sh = filepath.Join(bin, "sh")
	}
	return &jobShell{t: t, dir: filepath.Join(t.TempDir(), "patchrun"), sh: sh, env: []string{"PATH=" + bin, "LANG=C"}}
}

// run sends one verb; it returns the state, its detail, stdout after the
// state line and stderr.
func (s *jobShell) run(verb, job, arg string) (state, detail, out, errOut string) {
	s.t.Helper()
	c := exec.Command(s.sh, "-c", CmdJob(verb, s.dir, job, arg))
	c.Env = s.env
	c.Stdin = strings.NewReader(JobScript())
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	if err := c.Run(); err != nil {
		s.t.Fatalf("%s %s: %v (stderr %q)", verb, job, err, e.String())
	}
	st, d, rest := ParseJobAnswer(o.Bytes())
	return st, d, string(rest), e.String()
}

func TestJobScriptWithRealShell(t *testing.T) {
	t.Run("sh", func(t *testing.T) { testJobScript(t, newJobShell(t, false)) })
	t.Run("busybox", func(t *testing.T) { testJobScript(t, newJobShell(t, true)) })
}

func testJobScript(t *testing.T, s *jobShell) {

	// A finished job: its real exit status and both output streams.
	if st, how, _, e := s.run("start", "patchrun-install-t-1", "echo out; echo err >&2; exit 3"); st != JobStarted || how != "nohup" {
		t.Fatalf("start: %s %s %q", st, how, e)
	}
	if fi, err := os.Stat(s.dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("job dir %v %v: want mode 0700", fi, err)
	}
	if st, rc, out, e := s.run("wait", "patchrun-install-t-1", "30"); st != JobDone || rc != "3" || out != "out\n" || e != "err\n" {
		t.Fatalf("wait: %s %s %q %q", st, rc, out, e)
	}

	// A running job blocks a second transaction until it ends.
	fifo := filepath.Join(t.TempDir(), "gate")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if st, _, _, e := s.run("start", "patchrun-install-t-2", "cat "+fifo); st != JobStarted {
		t.Fatalf("start 2: %s %q", st, e)
	}
	if st, who, _, _ := s.run("start", "patchrun-install-t-3", "echo never"); st != JobBusy || who != "patchrun-install-t-2" {
		t.Fatalf("second transaction: %s %s; want busy patchrun-install-t-2", st, who)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "patchrun-install-t-3")); !os.IsNotExist(err) {
		t.Fatalf("a refused job left files: %v", err)
	}
	if st, _, _, _ := s.run("wait", "patchrun-install-t-2", "0"); st != JobRunning {
		t.Fatalf("wait 0 on a running job: %s", st)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Close() // the job's cat reads EOF and exits 0
	if st, rc, _, _ := s.run("wait", "patchrun-install-t-2", "30"); st != JobDone || rc != "0" {
		t.Fatalf("wait 2: %s %s", st, rc)
	}

	// A job killed before it could write its status is "lost", not done.
	if st, _, _, _ := s.run("start", "patchrun-install-t-4", "cat "+fifo); st != JobStarted {
		t.Fatal("start 4")
	}
	pidText, err := os.ReadFile(filepath.Join(s.dir, "patchrun-install-t-4", "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidText)))
	// Kill the job's wrapper shell (the one that would write the status),
	// then let its orphaned cat go.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	}()
	var st string
	for range 100 { // the killed group is reaped by init, not by us
		if st, _, _, _ = s.run("wait", "patchrun-install-t-4", "1"); st != JobRunning {
			break
		}
	}
	if st != JobLost {
		t.Fatalf("killed job: %s, want lost", st)
	}

	// Cleaning removes each job's files, and the directory with the last.
	for _, j := range []string{"patchrun-install-t-1", "patchrun-install-t-2", "patchrun-install-t-4"} {
		if st, _, _, _ := s.run("clean", j, ""); st != JobCleaned {
			t.Fatalf("clean %s: %s", j, st)
		}
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Fatalf("jobs dir left behind: %v", err)
	}
	if st, _, _, _ := s.run("wait", "patchrun-install-t-1", "1"); st != JobNone {
		t.Fatalf("wait on a cleaned job: %s, want none", st)
	}
}
