package unix

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

const aptFull = "LANG=C LC_ALL=C DEBIAN_FRONTEND=noninteractive apt-get -y -q --no-remove -o DPkg::Lock::Timeout=120 " +
	"-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade </dev/null"

const aptScan = "LANG=C LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade"

func jobAnswer(state string) step { return ok(JobMarker + " " + state + "\n") }

// jobLines are the exact job-script lines of one job.
func jobLines(job, line string) (start, wait, clean string) {
	return CmdJob("start", DefaultJobDir, job, line),
		CmdJob("wait", DefaultJobDir, job, "20"),
		CmdJob("clean", DefaultJobDir, job, "")
}

// The install line a user reads in -v logs: the job script on stdin, the
// verb, the private directory, the job named after the run, and the
// package manager's exact line; sudo moves from the line to the script.
func TestJobCommandLines(t *testing.T) {
	start, wait, clean := jobLines("patchrun-install-r1-1", aptFull)
	if want := "sh -s -- patchrun-job start /run/patchrun patchrun-install-r1-1 '" + aptFull + "'"; start != want {
		t.Errorf("start line\n got %s\nwant %s", start, want)
	}
	if wait != "sh -s -- patchrun-job wait /run/patchrun patchrun-install-r1-1 20" ||
		clean != "sh -s -- patchrun-job clean /run/patchrun patchrun-install-r1-1" {
		t.Errorf("wait %q clean %q", wait, clean)
	}
	if got := CmdJob("start", "/run/patchrun", "j", "echo 'x'"); got != `sh -s -- patchrun-job start /run/patchrun j 'echo '\''x'\'''` {
		t.Errorf("quoting: %s", got)
	}

	h := newHost(probe{uid: "1000"}, "apt", Options{Sudo: true})
	if !regexp.MustCompile(`^[0-9a-f]{10}$`).MatchString(h.jobRun) {
		t.Errorf("a run without id gets a random job prefix, got %q", h.jobRun)
	}
	h.NameJobs("bad name;reboot")
	if strings.ContainsAny(h.jobRun, " ;") {
		t.Errorf("unsafe run id used: %q", h.jobRun)
	}
	h.NameJobs("20261205-r1")
	cmd := h.jobLine("start", JobName(jobInstall, h.jobRun, 1), aptFull)
	if !strings.HasPrefix(cmd.Line, SudoPrefix+"sh -s -- patchrun-job start /run/patchrun patchrun-install-20261205-r1-1 ") {
		t.Errorf("privileged job line: %s", cmd.Line)
	}
	if cmd.Stdin == nil {
		t.Error("the job script must go on stdin")
	}
}

// installJob scripts the probe, an apt backend and its scan after install.
func aptJobHost(t *testing.T) (*fakeTransport, *aptBackend, []patch.Update) {
	f := newFake(t)
	b := detectWith(t, f, osDebian, "/usr/bin/apt-get", Options{}).(*aptBackend)
	b.NameJobs("r1")
	ups := parseAptSimulation(capturedFile(t, "apt/dist-upgrade-s.txt"))
	return f, b, ups
}

// A job is started once, followed while it runs, read when done and then
// cleaned up; the result is the job's real exit status.
func TestJobFollowedToItsEnd(t *testing.T) {
	f, b, ups := aptJobHost(t)
	start, wait, clean := jobLines("patchrun-install-r1-1", aptFull)
	f.on(start, jobAnswer("started nohup"))
	f.on(wait, jobAnswer("running"), jobAnswer("running"), ok(JobMarker+" done 0\nSetting up openssl ...\n"))
	f.on(clean, jobAnswer("cleaned"))
	f.on(aptScan, ok(capturedFile(t, "apt/dist-upgrade-s-none.txt")))
	res, err := b.Install(context.Background(), f, ups, true)
	if err != nil {
		t.Fatal(err)
	}
	if inst, _ := installedNames(res); len(inst) != len(ups) || !strings.Contains(res.Output, "Setting up openssl") {
		t.Fatalf("installed %v output %q", inst, res.Output)
	}
	if f.count(start) != 1 || f.count(wait) != 3 || f.count(clean) != 1 {
		t.Fatalf("start %d wait %d clean %d times; sent %q", f.count(start), f.count(wait), f.count(clean), f.sent)
	}
}

// The link drops while the job runs: Install says which job still runs;
// re-attaching over a new connection follows the same job (no second
// transaction) and reports its real exit status, whether the job is still
// running or finished while nobody was connected.
func TestJobReattachAfterLostLink(t *testing.T) {
	for _, tt := range []struct {
		name  string
		waits []step
		code  int
	}{
		{"still running on re-attach", []step{jobAnswer("running"), ok(JobMarker + " done 0\n")}, 0},
		{"finished while disconnected", []step{ok(JobMarker + " done 0\n")}, 0},
		{"failed while disconnected", []step{exit(0, JobMarker+" done 100\n", "E: Sub-process /usr/bin/dpkg returned an error code (1)\n")}, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, b, ups := aptJobHost(t)
			start, wait, clean := jobLines("patchrun-install-r1-1", aptFull)
			f.on(start, jobAnswer("started nohup"))
			f.on(wait, jobAnswer("running"), fail(transport.ErrConnLost))
			res, err := b.Install(context.Background(), f, ups, true)
			var lost *patch.JobLostError
			if !errors.As(err, &lost) || lost.Job != "patchrun-install-r1-1" || !errors.Is(err, transport.ErrConnLost) {
				t.Fatalf("want JobLostError for patchrun-install-r1-1 wrapping ErrConnLost, got %v", err)
			}
			if res.Updates[0].Installed || !strings.Contains(res.Updates[0].Error, "outcome unknown") {
				t.Fatalf("%+v", res.Updates[0])
			}

			g := newFake(t) // the new connection
			g.on(wait, tt.waits...)
			g.on(clean, jobAnswer("cleaned"))
			if tt.code == 0 {
				g.on(aptScan, ok(capturedFile(t, "apt/dist-upgrade-s-none.txt")))
			} else {
				g.on(aptScan, ok(capturedFile(t, "apt/dist-upgrade-s.txt")))
			}
			res, err = b.ReattachInstall(context.Background(), g, lost.Job, ups, true)
			for _, s := range g.sent {
				if strings.Contains(s, " start ") || strings.Contains(s, "dpkg --audit") {
					t.Fatalf("re-attach started something: %q", s)
				}
			}
			inst, failed := installedNames(res)
			switch {
			case tt.code == 0 && (err != nil || len(inst) != len(ups)):
				t.Fatalf("err %v installed %v failed %v", err, inst, failed)
			case tt.code != 0 && (!strings.Contains(err.Error(), "exit status 100") || len(inst) != 0):
				t.Fatalf("want the job's real exit status 100, got %v (installed %v)", err, inst)
			}
			if g.count(clean) != 1 {
				t.Errorf("files not cleaned after the result was read: %q", g.sent)
			}
		})
	}
}

// Never a second transaction: a job of ours still running on the host
// (an earlier run's, cut off) makes the install fail without starting one.
func TestJobBusyStartsNothing(t *testing.T) {
	f, b, ups := aptJobHost(t)
	start, _, _ := jobLines("patchrun-install-r1-1", aptFull)
	f.on(start, jobAnswer("busy patchrun-install-old-3"))
	f.on(aptScan, ok(capturedFile(t, "apt/dist-upgrade-s.txt")))
	res, err := b.Install(context.Background(), f, ups, true)
	if !errors.Is(err, patch.ErrCommandFailed) || !strings.Contains(err.Error(), "patchrun-install-old-3 is still running") {
		t.Fatalf("want a failure naming the running job, got %v", err)
	}
	if _, failed := installedNames(res); len(failed) != len(ups) || !strings.Contains(failed[0], "not starting a second one") {
		t.Fatalf("failed %v", failed)
	}
}

// A host left with an interrupted dpkg or a stale lock is reported with the
// exact repair command, and nothing is started or repaired.
func TestPreflightReportsRepairCommand(t *testing.T) {
	t.Run("dpkg --audit", func(t *testing.T) {
		f, b, ups := aptJobHost(t)
		f.on(CmdDpkgAudit, ok("The following packages have been unpacked but not yet configured.\n labslow    patchrun lab: slow\n"))
		f.on(aptScan, ok(capturedFile(t, "apt/dist-upgrade-s.txt")))
		_, err := b.Install(context.Background(), f, ups, true)
		if err == nil || !strings.Contains(err.Error(), "repair with: dpkg --configure -a") {
			t.Fatalf("want the repair command, got %v", err)
		}
		for _, s := range f.sent {
			if strings.Contains(s, "patchrun-job") || strings.Contains(s, "--configure") {
				t.Fatalf("sent %q: nothing may start or be repaired", s)
			}
		}
	})
	t.Run("stale zypp lock", func(t *testing.T) {
		f := newFake(t)
		b := detectWith(t, f, osOpenSUSE, "/usr/bin/zypper", Options{})
		f.on(CmdStaleLock("/run/zypp.pid"), ok("4242\n"))
		f.on(CmdZypperListUpdates, captured(t, "zypper/list-updates"))
		_, err := b.Install(context.Background(), f, []patch.Update{{Name: "curl", Current: "1", Available: "2"}}, false)
		if err == nil || !strings.Contains(err.Error(), "stale lock /run/zypp.pid (pid 4242 is not running)") ||
			!strings.Contains(err.Error(), "repair with: rm /run/zypp.pid") {
			t.Fatalf("want the stale lock and its repair, got %v", err)
		}
	})
}

// A job that died without an exit status (killed, host restarted) fails
// the install saying so; the rescan still tells what went in.
func TestJobLostWithoutStatus(t *testing.T) {
	f, b, ups := aptJobHost(t)
	start, wait, clean := jobLines("patchrun-install-r1-1", aptFull)
	f.on(start, jobAnswer("started systemd"))
	f.on(wait, jobAnswer("lost"))
	f.on(clean, jobAnswer("cleaned"))
	f.on(aptScan, ok(capturedFile(t, "apt/dist-upgrade-s.txt")))
	_, err := b.Install(context.Background(), f, ups, true)
	if !errors.Is(err, patch.ErrCommandFailed) || !strings.Contains(err.Error(), "ended without an exit status") {
		t.Fatalf("got %v", err)
	}
}

// A refresh job is followed and re-attached like an install; its exit
// status decides.
func TestRefreshJobReattach(t *testing.T) {
	const refresh = "LANG=C LC_ALL=C apt-get -q update -o DPkg::Lock::Timeout=120"
	f, b, _ := aptJobHost(t)
	start, wait, clean := jobLines("patchrun-refresh-r1-1", refresh)
	f.on(start, jobAnswer("started nohup"))
	f.on(wait, fail(transport.ErrConnLost))
	err := b.Refresh(context.Background(), f)
	var lost *patch.JobLostError
	if !errors.As(err, &lost) || lost.Job != "patchrun-refresh-r1-1" {
		t.Fatalf("want the refresh job lost, got %v", err)
	}
	for _, tt := range []struct {
		answer step
		ok     bool
	}{
		{ok(JobMarker + " done 0\n"), true},
		{exit(0, JobMarker+" done 100\n", "E: The repository is not signed.\n"), false},
	} {
		g := newFake(t)
		g.on(wait, tt.answer)
		g.on(clean, jobAnswer("cleaned"))
		err := b.ReattachRefresh(context.Background(), g, lost.Job)
		if (err == nil) != tt.ok || (!tt.ok && !strings.Contains(err.Error(), "exit status 100")) {
			t.Errorf("re-attached refresh: %v; want ok=%v", err, tt.ok)
		}
		if g.count(start) != 0 {
			t.Error("re-attach started a second refresh")
		}
	}
}

// A resumed run's process detects the host afresh and re-attaches to the
// job the dead process started: no Install ran in this process. A job no
// longer on the host ends the re-attach at once with ErrNoSuchJob and
// nothing else sent, so the caller can install again.
func TestReattachFromAFreshProcess(t *testing.T) {
	_, b, ups := aptJobHost(t)
	_, wait, clean := jobLines("patchrun-install-r0-1", aptFull)
	g := newFake(t)
	g.on(wait, jobAnswer("running"), ok(JobMarker+" done 0\n"))
	g.on(clean, jobAnswer("cleaned"))
	g.on(aptScan, ok(capturedFile(t, "apt/dist-upgrade-s-none.txt")))
	res, err := b.ReattachInstall(context.Background(), g, "patchrun-install-r0-1", ups, true)
	if inst, _ := installedNames(res); err != nil || len(inst) != len(ups) {
		t.Fatalf("err %v installed %v", err, inst)
	}

	_, b, ups = aptJobHost(t)
	g = newFake(t)
	g.on(wait, jobAnswer("none"))
	res, err = b.ReattachInstall(context.Background(), g, "patchrun-install-r0-1", ups, true)
	if !errors.Is(err, patch.ErrNoSuchJob) || res.Updates[0].Installed {
		t.Fatalf("want ErrNoSuchJob and nothing installed, got %v %+v", err, res.Updates[0])
	}
	if len(g.sent) != 1 {
		t.Errorf("a missing job must end the re-attach at once; sent %q", g.sent)
	}
}

// Every backend can follow, in a fresh process, a job another one started
// (its install plan comes from detection): apk, pacman and FreeBSD too,
// FreeBSD's jobs in /var/run/patchrun.
func TestEveryBackendCanReattach(t *testing.T) {
	for _, tc := range []struct{ osr, managers, dir string }{
		{osAlpine, "/sbin/apk", DefaultJobDir},
		{osArch, "/usr/bin/pacman", DefaultJobDir},
		{osFreeBSD, "/usr/sbin/pkg", FreeBSDJobDir},
		{osOpenSUSE, "/usr/bin/zypper", DefaultJobDir},
	} {
		b := detectWith(t, newFake(t), tc.osr, tc.managers, Options{})
		g := newFake(t)
		g.on(CmdJob("wait", tc.dir, "patchrun-install-r0-1", "20"), jobAnswer("none"))
		_, err := b.(patch.Reattacher).ReattachInstall(context.Background(), g, "patchrun-install-r0-1", []patch.Update{{Name: "x", Available: "2"}}, true)
		if !errors.Is(err, patch.ErrNoSuchJob) {
			t.Errorf("%s: %v, want the job looked for (and not found) in %s", b.Name(), err, tc.dir)
		}
	}
}
