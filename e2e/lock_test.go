package e2e

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// leaseFile is where patchrun leases a Unix host.
const leaseFile = "/var/lib/patchrun/lock"

// testConcurrentPatch starts two `patch` runs at the same instant on the
// same hosts: each host is patched (installed, rebooted) by exactly one of
// them, and the other run reports it skipped with error kind "locked",
// naming the holder. No lease is left behind.
func testConcurrentPatch(t *testing.T, l *lab, p patchrun) {
	version := l.nextVersion(t)
	l.run(t, "repo", "publish", version)
	hosts := l.freeHosts(t, 4, 6)
	before := map[string]string{}
	for _, h := range hosts {
		before[h] = l.exec(t, h, "grep -c ' status installed labsec:[a-z0-9]* "+version+"$' /var/log/dpkg.log || true")
	}
	_, mark := l.bootLog(t, 0)

	args := []string{"patch", "-l", strings.Join(hosts, ","), "--batch", "2", "--reboot", "always"}
	var wg sync.WaitGroup
	reps := make([]report, 2)
	codes := make([]int, 2)
	errs := make([]error, 2)
	start := time.Now()
	for i := range 2 {
		// Two controllers: each run keeps its own local state (as a cron
		// box and a laptop would), so nothing but the hosts' leases keeps
		// them apart.
		run := p
		run.env = append(slices.Clip(p.env), "XDG_STATE_HOME="+t.TempDir())
		wg.Go(func() { reps[i], codes[i], _, errs[i] = run.invoke(10*time.Minute, args...) })
	}
	wg.Wait()
	t.Logf("TIMING two concurrent patch runs on %d hosts: %s", len(hosts), time.Since(start).Round(time.Millisecond))
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if codes[i] != 0 {
			t.Errorf("run %d: exit %d, want 0 (a locked host is skipped, not failed)", i+1, codes[i])
		}
	}

	patched := map[string]int{}
	for _, h := range hosts {
		var ok, locked int
		for i, rep := range reps {
			r := rep.host(t, h)
			switch {
			case r.Status == "ok" && r.Rebooted:
				ok++
				if u, found := r.update("labsec"); !found || !u.Installed || u.Available != version {
					t.Errorf("run %d, %s: labsec %+v, want %s installed", i+1, h, u, version)
				}
			case r.Status == "skipped" && r.ErrorKind == "locked":
				locked++
				if !strings.Contains(r.Error, "locked by run ") || !strings.Contains(r.Error, "controller ") || !strings.Contains(r.Error, "pid ") {
					t.Errorf("run %d, %s: %q does not name the holder", i+1, h, r.Error)
				}
			default:
				t.Errorf("run %d, %s: status %q kind %q rebooted=%v (%s)", i+1, h, r.Status, r.ErrorKind, r.Rebooted, r.Error)
			}
		}
		patched[h] = ok
		if ok != 1 || locked != 1 {
			t.Errorf("%s: patched by %d runs and reported locked by %d; want 1 and 1", h, ok, locked)
		}
	}
	t.Logf("hosts each run patched: %d and %d", reps[0].Summary.OK, reps[1].Summary.OK)

	// What the hosts say, without patchrun: one install and one reboot each.
	evs, _ := l.bootLog(t, mark)
	downs := map[string]int{}
	for _, ev := range evs {
		if !ev.up {
			downs[ev.host]++
		}
	}
	for _, h := range hosts {
		after := l.exec(t, h, "grep -c ' status installed labsec:[a-z0-9]* "+version+"$' /var/log/dpkg.log || true")
		b, _ := strconv.Atoi(strings.TrimSpace(before[h]))
		a, _ := strconv.Atoi(strings.TrimSpace(after))
		if a-b != 1 {
			t.Errorf("%s: dpkg installed labsec %s %d times, want once", h, version, a-b)
		}
		if downs[h] != 1 {
			t.Errorf("%s: went down %d times, want once", h, downs[h])
		}
		if left := strings.TrimSpace(l.exec(t, h, "cat "+leaseFile+" 2>/dev/null || true")); left != "" {
			t.Errorf("%s: lease left behind:\n%s", h, left)
		}
	}
}

// freeHosts returns up to most hosts that hold no lease, at least least
// of them: hosts an earlier step left leased (one that never came back in
// time cannot be released) are not for a new step.
func (l *lab) freeHosts(t *testing.T, least, most int) []string {
	t.Helper()
	var hosts []string
	for _, h := range l.hosts {
		if len(hosts) == most {
			break
		}
		if strings.TrimSpace(l.exec(t, h.name, "test -e "+leaseFile+" && echo held || echo free")) == "free" {
			hosts = append(hosts, h.name)
		}
	}
	if len(hosts) < least {
		t.Fatalf("only %d unleased hosts (%v); need %d", len(hosts), hosts, least)
	}
	return hosts
}

// unlock runs `patchrun unlock` on hosts and returns its stdout.
func (p patchrun) unlock(t *testing.T, force bool, hosts ...string) string {
	t.Helper()
	args := []string{"run", "--", p.bin, "unlock", "-i", p.lab.inventory()}
	if force {
		args = append(args, "--force")
	}
	// Not t.Context(): this also runs from a Cleanup, when that is done.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := p.lab.command(ctx, append(args, hosts...)...).Output()
	if err != nil {
		t.Errorf("patchrun unlock %v: %v\n%s", hosts, err, out)
	}
	return string(out)
}

// nextVersion is a labsec/labconf version above every one published so far
// (earlier steps publish their own), so this step's hosts have it to install.
func (l *lab) nextVersion(t *testing.T) string {
	t.Helper()
	debs, err := filepath.Glob(filepath.Join(l.state, "repo", "pool", "lab-security", "labsec_*.deb"))
	if err != nil || len(debs) == 0 {
		t.Fatalf("no published labsec in the lab's repository: %v", err)
	}
	major, minor := 1, 0
	for _, d := range debs {
		v := strings.SplitN(strings.TrimPrefix(filepath.Base(d), "labsec_"), "_", 2)[0]
		a, b, _ := strings.Cut(v, ".")
		ma, err1 := strconv.Atoi(a)
		mi, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil {
			t.Fatalf("published labsec version %q is not MAJOR.MINOR", v)
		}
		if ma > major || (ma == major && mi > minor) {
			major, minor = ma, mi
		}
	}
	return strconv.Itoa(major) + "." + strconv.Itoa(minor+1)
}
