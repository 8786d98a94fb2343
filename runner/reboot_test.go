package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

func TestRebootPolicies(t *testing.T) {
	needs := func() *fakeHost {
		return &fakeHost{name: "needs", pending: []patch.Update{upd("kernel", true, true)}}
	}
	plain := func() *fakeHost { return &fakeHost{name: "plain", pending: []patch.Update{upd("curl", false, false)}} }
	clean := func() *fakeHost { return &fakeHost{name: "clean"} }
	already := func() *fakeHost { return &fakeHost{name: "already", factsReboot: true} }

	tests := []struct {
		policy   RebootPolicy
		rebooted map[string]bool
	}{
		{RebootIfRequired, map[string]bool{"needs": true, "plain": false, "clean": false, "already": true}},
		{RebootAlways, map[string]bool{"needs": true, "plain": true, "clean": true, "already": true}},
		{RebootNever, map[string]bool{"needs": false, "plain": false, "clean": false, "already": false}},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			f := newFleet(t, needs(), plain(), clean(), already())
			plan := fastPlan(report.CmdPatch, f)
			plan.Reboot = tt.policy
			rep, rec := runPlan(t, context.Background(), plan, f, nil)
			checkEvents(t, rep, rec)
			for _, h := range rep.Hosts {
				want := tt.rebooted[h.Name]
				if h.Status != report.StatusOK || h.Rebooted != want || (f.host(h.Name).reboots == 1) != want {
					t.Errorf("%s: status %s rebooted %v (fake reboots %d), want rebooted %v; error %q",
						h.Name, h.Status, h.Rebooted, f.host(h.Name).reboots, want, h.Error)
				}
				if want && (h.BootIDBefore == "" || h.BootIDAfter == "" || h.BootIDBefore == h.BootIDAfter || h.RebootBatch == 0) {
					t.Errorf("%s: boot ids %q → %q, batch %d", h.Name, h.BootIDBefore, h.BootIDAfter, h.RebootBatch)
				}
				if want && h.RebootRequired {
					t.Errorf("%s: still reports reboot required after a reboot", h.Name)
				}
			}
			m := byName(rep)
			if tt.policy == RebootNever && (!m["needs"].RebootRequired || !m["already"].RebootRequired) {
				t.Error("policy never must still report reboot_required")
			}
			if !m["needs"].Updates[0].Installed || m["needs"].Rounds != 1 {
				t.Errorf("needs: updates %+v rounds %d", m["needs"].Updates, m["needs"].Rounds)
			}
			if m["clean"].Rounds != 0 || f.host("clean").installs != 0 {
				t.Error("nothing selected must mean no install")
			}
		})
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	for _, policy := range []RebootPolicy{RebootIfRequired, RebootAlways, RebootNever} {
		t.Run(string(policy), func(t *testing.T) {
			f := newFleet(t,
				&fakeHost{name: "kernel", pending: []patch.Update{upd("linux-image", true, true), upd("curl", false, false)}},
				&fakeHost{name: "flag", factsReboot: true},
				&fakeHost{name: "plain", pending: []patch.Update{upd("curl", false, false)}},
			)
			plan := fastPlan(report.CmdPatch, f)
			plan.DryRun = true
			plan.Reboot = policy
			plan.Selection = patch.Selection{SecurityOnly: true}
			rep, rec := runPlan(t, context.Background(), plan, f, nil)
			checkEvents(t, rep, rec)
			for _, h := range rep.Hosts {
				fh := f.host(h.Name)
				if fh.installs != 0 || fh.reboots != 0 || h.Rebooted || h.Status != report.StatusOK {
					t.Errorf("%s: dry-run installed %d, rebooted %d, status %s", h.Name, fh.installs, fh.reboots, h.Status)
				}
				for _, u := range h.Updates {
					if u.Installed {
						t.Errorf("%s: %s marked installed in a dry run", h.Name, u.Name)
					}
				}
			}
			m := byName(rep)
			if got := m["kernel"].WouldInstall; !slices.Equal(got, []string{"linux-image"}) {
				t.Errorf("would install %v, want only the selected linux-image", got)
			}
			want := map[RebootPolicy][3]bool{
				RebootIfRequired: {true, true, false},
				RebootAlways:     {true, true, true},
				RebootNever:      {false, false, false},
			}[policy]
			got := [3]bool{m["kernel"].WouldReboot, m["flag"].WouldReboot, m["plain"].WouldReboot}
			if got != want {
				t.Errorf("would reboot (kernel, flag, plain) = %v, want %v", got, want)
			}
			if rep.Summary.UpdatesInstalled != 0 || rep.Summary.Rebooted != 0 || !rep.DryRun {
				t.Errorf("summary %+v dry-run %v", rep.Summary, rep.DryRun)
			}
		})
	}
}

func TestRebootCommandOnlyIfRequired(t *testing.T) {
	for _, only := range []bool{true, false} {
		t.Run(fmt.Sprint("only-if-required=", only), func(t *testing.T) {
			f := newFleet(t,
				&fakeHost{name: "flagged", factsReboot: true, pending: []patch.Update{upd("x", true, false)}},
				&fakeHost{name: "fine"},
			)
			plan := fastPlan(report.CmdReboot, f)
			plan.OnlyIfRequired = only
			rep, rec := runPlan(t, context.Background(), plan, f, nil)
			checkEvents(t, rep, rec)
			m := byName(rep)
			if h := m["flagged"]; h.Status != report.StatusOK || !h.Rebooted || h.RebootRequired {
				t.Errorf("flagged: %+v", h)
			}
			if h := m["fine"]; h.Status != report.StatusOK || h.Rebooted == only {
				t.Errorf("fine: status %s rebooted %v", h.Status, h.Rebooted)
			}
			if f.host("flagged").installs != 0 || len(m["flagged"].Updates) != 0 {
				t.Error("reboot command must not scan or install")
			}
			if rep.Summary.Failed+rep.Summary.Unreachable != 0 || rep.Halted || rep.Interrupted {
				t.Errorf("summary %+v halted %v interrupted %v", rep.Summary, rep.Halted, rep.Interrupted)
			}
		})
	}
}

func TestRebootWait(t *testing.T) {
	tests := []struct {
		name      string
		host      fakeHost
		status    report.Status
		kind      string
		errSubstr string
		phases    []report.Phase // must appear in this order
		dials     int            // exact dial count when non-zero
	}{
		{"same boot id for a while, then down, then up", fakeHost{sameBootDials: 3, downDials: 3}, report.StatusOK, "", "",
			[]report.Phase{report.PhaseRebooting, report.PhaseWaitingDown, report.PhaseWaitingUp, report.PhaseVerifying}, 0},
		{"readiness probe fails twice", fakeHost{downDials: 1, readyFails: 2}, report.StatusOK, "", "", nil, 0},
		{"reboot command loses the connection", fakeHost{rebootErr: transport.ErrConnLost}, report.StatusOK, "", "", nil, 0},
		{"plain reboot: one dial to patch, one when its batch starts, one after", fakeHost{}, report.StatusOK, "", "", nil, 3},
		{"connection died while awaiting the batch", fakeHost{dropWaiting: true}, report.StatusOK, "", "", nil, 3},
		{"connection died as the install finished", fakeHost{dropInInstall: true}, report.StatusOK, "", "", nil, 4},
		{"reboot command fails", fakeHost{rebootErr: fmt.Errorf("%w: permission denied", patch.ErrCommandFailed)},
			report.StatusFailed, "command-failed", "reboot: command failed: permission denied", nil, 0},
		{"boot id never changes", fakeHost{neverReboots: true}, report.StatusFailed, "reboot-timeout",
			"host did not come back within 15m0s: boot id never changed (still h-boot-0)", nil, 0},
		{"never comes back", fakeHost{neverBack: true}, report.StatusFailed, "reboot-timeout",
			"host did not come back within 15m0s: last error: dial h: unreachable: connection refused", nil, 0},
		{"back but never ready", fakeHost{readyFails: 1 << 30}, report.StatusFailed, "reboot-timeout",
			"host came back but was not ready within 15m0s: last error: readiness probe: not ready yet", nil, 0},
		// Right after a boot, sshd (sssd/LDAP, automounted homes) or WinRM
		// (domain logon) may reject good credentials for a while.
		{"credentials rejected for a while after the reboot", fakeHost{authFailDials: 3}, report.StatusOK, "", "", nil, 6},
		{"credentials rejected until the deadline", fakeHost{authAfterBoot: true}, report.StatusFailed, "auth",
			"host came back but rejected our credentials within 15m0s: last error: dial h: authentication failed", nil, 0},
		{"readiness probe hangs until the deadline", fakeHost{readyHang: true}, report.StatusFailed, "reboot-timeout",
			"host came back but was not ready within 15m0s: the readiness probe had not finished", nil, 0},
		{"flag survives the reboot", fakeHost{stickyReboot: true}, report.StatusFailed, "still-reboot-required",
			"still requires a reboot after 1 reboot", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := tt.host
				h.name = "h"
				h.pending = []patch.Update{upd("kernel", true, true)}
				f := newFleet(t, &h)
				plan := realTimePlan(report.CmdPatch, f)
				plan.MaxRounds = 1
				rep, rec := runPlan(t, context.Background(), plan, f, nil)
				checkEvents(t, rep, rec)
				r := rep.Hosts[0]
				if r.Status != tt.status || r.ErrorKind != tt.kind || !strings.Contains(r.Error, tt.errSubstr) {
					t.Fatalf("status %s kind %q error %q; want %s %q ~%q", r.Status, r.ErrorKind, r.Error, tt.status, tt.kind, tt.errSubstr)
				}
				if !r.Updates[0].Installed {
					t.Error("installed update lost from the result")
				}
				if r.Rebooted != (tt.status == report.StatusOK || tt.kind == "still-reboot-required") {
					t.Errorf("rebooted %v", r.Rebooted)
				}
				if got := rec.phases("h"); !inOrder(got, tt.phases) {
					t.Errorf("phases %v do not contain %v in order", got, tt.phases)
				}
				if tt.dials != 0 && f.host("h").dials != tt.dials {
					t.Errorf("%d dials, want %d", f.host("h").dials, tt.dials)
				}
				if r.Status == report.StatusOK && r.BootIDAfter != "h-boot-1" {
					t.Errorf("boot id after %q", r.BootIDAfter)
				}
			})
		})
	}
}

// inOrder reports whether want appears in got as a subsequence.
func inOrder(got, want []report.Phase) bool {
	i := 0
	for _, p := range got {
		if i < len(want) && p == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestHostRebootTimeoutOverrideWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(t, &fakeHost{name: "slow", neverBack: true, factsReboot: true})
		plan := realTimePlan(report.CmdReboot, f)
		plan.RebootTimeout = time.Hour
		plan.Hosts[0].RebootTimeout = 2 * time.Minute
		start := time.Now()
		rep, _ := runPlan(t, context.Background(), plan, f, nil)
		if h := rep.Hosts[0]; h.ErrorKind != "reboot-timeout" || !strings.Contains(h.Error, "within 2m0s") {
			t.Errorf("status %s error %q", h.Status, h.Error)
		}
		if took := time.Since(start); took < 2*time.Minute || took > 3*time.Minute {
			t.Errorf("the run took %s, want the host's 2m reboot timeout", took)
		}
	})
}

func TestRounds(t *testing.T) {
	tests := []struct {
		name      string
		host      fakeHost
		maxRounds int
		status    report.Status
		kind      string
		errText   string
		rounds    int
		reboots   int
		installed []string
	}{
		{"second wave installed in round two", fakeHost{waves: [][]patch.Update{{upd("b", true, true)}}},
			0, report.StatusOK, "", "", 2, 2, []string{"a", "b"}},
		{"three waves, default max rounds 3", fakeHost{waves: [][]patch.Update{{upd("b", true, true)}, {upd("c", true, true)}, {upd("d", true, true)}}},
			0, report.StatusOK, "", "", 3, 3, []string{"a", "b", "c"}},
		{"max rounds 1 leaves the wave pending", fakeHost{waves: [][]patch.Update{{upd("b", true, true)}}},
			1, report.StatusOK, "", "", 1, 1, []string{"a"}},
		{"update loop", fakeHost{loop: true},
			0, report.StatusFailed, "update-loop", "update loop: a reappeared after install", 1, 1, []string{"a"}},
		{"flag never clears", fakeHost{stickyReboot: true, waves: [][]patch.Update{{upd("b", true, true)}}},
			2, report.StatusFailed, "still-reboot-required", "still requires a reboot after 2 reboots", 2, 2, []string{"a", "b"}},
		{"failed update retried in the next round, fails again", fakeHost{installFail: map[string]string{"b": "0x80240016"}},
			0, report.StatusFailed, "install", "1 updates did not install: b (0x80240016)", 2, 1, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.host
			h.name = "w"
			h.pending = []patch.Update{upd("a", true, true)}
			if tt.host.installFail != nil {
				h.pending = append(h.pending, upd("b", true, false))
			}
			f := newFleet(t, &h)
			plan := fastPlan(report.CmdPatch, f)
			plan.MaxRounds = tt.maxRounds
			rep, rec := runPlan(t, context.Background(), plan, f, nil)
			checkEvents(t, rep, rec)
			r := rep.Hosts[0]
			if r.Status != tt.status || r.ErrorKind != tt.kind || r.Error != tt.errText {
				t.Errorf("status %s kind %q error %q; want %s %q %q", r.Status, r.ErrorKind, r.Error, tt.status, tt.kind, tt.errText)
			}
			if r.Rounds != tt.rounds || f.host("w").reboots != tt.reboots {
				t.Errorf("rounds %d reboots %d; want %d, %d", r.Rounds, f.host("w").reboots, tt.rounds, tt.reboots)
			}
			var installed []string
			for _, u := range r.Updates {
				if u.Installed {
					installed = append(installed, u.Name)
				}
			}
			if !slices.Equal(installed, tt.installed) {
				t.Errorf("installed %v, want %v (updates %+v)", installed, tt.installed, r.Updates)
			}
			if r.BootIDBefore != "w-boot-0" || r.BootIDAfter != fmt.Sprintf("w-boot-%d", tt.reboots) {
				t.Errorf("boot ids %q → %q", r.BootIDBefore, r.BootIDAfter)
			}
		})
	}
}

func TestNextPollDelay(t *testing.T) {
	tm := Timing{PollInterval: 2 * time.Second, PollMax: 5 * time.Second}
	down := fmt.Errorf("dial: %w", transport.ErrUnreachable)
	tests := []struct {
		name  string
		delay time.Duration
		err   error
		want  time.Duration
	}{
		{"still up (old boot id): back off", 2 * time.Second, nil, 4 * time.Second},
		{"still up: capped at PollMax", 4 * time.Second, nil, 5 * time.Second},
		{"down: poll at the base interval", 5 * time.Second, down, 2 * time.Second},
		{"credentials rejected: the host answers, back off", 2 * time.Second, fmt.Errorf("x: %w", transport.ErrAuth), 4 * time.Second},
		{"refused or timed out without a kind: down", 4 * time.Second, errors.New("connection refused"), 2 * time.Second},
	}
	for _, tt := range tests {
		if got := nextPollDelay(tt.delay, tt.err, tm); got != tt.want {
			t.Errorf("%s: nextPollDelay(%s) = %s, want %s", tt.name, tt.delay, got, tt.want)
		}
	}
}

// A host whose link is down drops connection attempts: each hangs until its
// timeout. Its return must still be seen within one poll interval (500ms by
// default), not one attempt's timeout later, or every batch waits that long.
func TestRebootReturnSeenWithinPollInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(t, &fakeHost{name: "h", downFor: 3 * time.Second, pending: []patch.Update{upd("kernel", true, true)}})
		plan := realTimePlan(report.CmdPatch, f)
		// The overlapping attempts that see the return early use the
		// run's --forks slots: the default leaves them enough.
		plan.Forks = DefaultForks
		rep, _ := runPlan(t, context.Background(), plan, f, nil)
		end := time.Now()
		h := f.host("h")
		if r := rep.Hosts[0]; r.Status != report.StatusOK || !r.Rebooted {
			t.Fatalf("status %s rebooted %v error %q", r.Status, r.Rebooted, r.Error)
		}
		back := h.rebootAt.Add(h.downFor)
		if late := end.Sub(back); late < 0 || late > DefaultPollInterval {
			t.Errorf("run ended %s after the host was back, want within %s", late, DefaultPollInterval)
		}
	})
}

// While a host is down the poll is bounded: at most 4 connection attempts
// a second (one per 250–500 ms), at most 16 in flight, and after a minute of
// absence it backs off towards one per PollMax; the return is still seen
// within PollMax.
func TestRebootPollRateBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const down = 3 * time.Minute
		f := newFleet(t, &fakeHost{name: "h", downFor: down, pending: []patch.Update{upd("kernel", true, true)}})
		rep, _ := runPlan(t, context.Background(), realTimePlan(report.CmdPatch, f), f, nil)
		end := time.Now()
		h := f.host("h")
		if r := rep.Hosts[0]; r.Status != report.StatusOK {
			t.Fatalf("status %s error %q", r.Status, r.Error)
		}
		// 1 dial before the reboot; ≤ 4/s for the first minute; ≥ 2.5 s
		// apart once backed off (the doubling from 500ms takes ~5 more).
		maxDials := 1 + 4*60 + 1 + int((down-time.Minute)/(DefaultPollMax/2)) + 5
		if h.dials > maxDials {
			t.Errorf("%d dials in %s down, want at most %d", h.dials, down, maxDials)
		}
		if h.maxHanging > maxDialsInFlight {
			t.Errorf("%d connection attempts in flight at once, want at most %d", h.maxHanging, maxDialsInFlight)
		}
		if late := end.Sub(h.rebootAt.Add(down)); late < 0 || late > DefaultPollMax {
			t.Errorf("return seen %s after the host was back, want within %s", late, DefaultPollMax)
		}
	})
}

// rebootDownHosts patches n hosts needing a reboot, in batches of 3,
// whose links are down for down after the reboot (a dial meanwhile hangs
// until its timeout), with the given --forks.
func rebootDownHosts(t *testing.T, n, forks int, down time.Duration) (report.Report, *fakeFleet, []*fakeHost) {
	var hs []*fakeHost
	for i := range n {
		hs = append(hs, &fakeHost{name: fmt.Sprintf("h%d", i+1), downFor: down, factsReboot: true,
			pending: []patch.Update{upd("kernel", true, true)}})
	}
	f := newFleet(t, hs...)
	plan := realTimePlan(report.CmdPatch, f)
	plan.Forks = forks
	plan.Batches = Batches{{N: 3}}
	rep, rec := runPlan(t, context.Background(), plan, f, nil)
	checkEvents(t, rep, rec)
	return rep, f, hs
}

// Once a host has come back from a reboot, the run knows how long a reboot
// takes: around that moment the next hosts are polled five times as often,
// so their return is seen within a fifth of the poll interval (100ms)
// although every attempt made while the link was down hangs.
// The rate stays bounded: at most 20 attempts a second per host (one per
// 50–100ms) in the quick window, 4 outside it, at most 16 in flight.
func TestRebootReturnSeenQuicklyOnceARebootWasTimed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const down = 3 * time.Second
		// Room for every attempt: the interval alone bounds the wait.
		rep, f, hs := rebootDownHosts(t, 9, 3*maxDialsInFlight, down)
		f.snapshot(func() {
			for _, h := range hs {
				r := byName(rep)[h.name]
				if r.Status != report.StatusOK || !r.Rebooted {
					t.Errorf("%s: status %s rebooted %v: %s", h.name, r.Status, r.Rebooted, r.Error)
					continue
				}
				bound := DefaultPollInterval // the first batch: nothing timed yet
				if r.RebootBatch > 1 {
					bound = DefaultPollInterval / quickPollDivisor
				}
				if late := h.backAt.Sub(h.rebootAt.Add(down)); late < 0 || late > bound {
					t.Errorf("%s (batch %d): return seen %s after the host was back, want within %s", h.name, r.RebootBatch, late, bound)
				}
				for i := range h.dialAt {
					n := 0
					for _, at := range h.dialAt[i:] {
						if at.Sub(h.dialAt[i]) < time.Second {
							n++
						}
					}
					if n > 20 {
						t.Errorf("%s: %d connection attempts within a second from %s", h.name, n, h.dialAt[i].Sub(h.rebootAt))
						break
					}
				}
				if h.maxHanging > maxDialsInFlight {
					t.Errorf("%s: %d attempts in flight at once, want at most %d", h.name, h.maxHanging, maxDialsInFlight)
				}
			}
		})
	})
}

// With --forks too small for the batch, a host has no room for overlapping
// attempts, and each made while its link was down hangs until its timeout
// (5s): the oldest gives way to a new one after two poll intervals, so the
// return is still seen within three (1.5s), not a timeout later.
func TestRebootReturnSeenWithoutFreeSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const down = 3 * time.Second
		rep, f, hs := rebootDownHosts(t, 3, 1, down)
		f.snapshot(func() {
			for _, h := range hs {
				if r := byName(rep)[h.name]; r.Status != report.StatusOK || !r.Rebooted {
					t.Errorf("%s: status %s rebooted %v: %s", h.name, r.Status, r.Rebooted, r.Error)
				}
				bound := 3 * DefaultPollInterval
				if late := h.backAt.Sub(h.rebootAt.Add(down)); late < 0 || late > bound {
					t.Errorf("%s: return seen %s after the host was back, want within %s", h.name, late, bound)
				}
			}
		})
	})
}

// Connection attempts fail several times a second while a host is down; the
// -v log and the --events stream get one line per PollMax, not one each.
func TestRebootDownProbesLoggedSparingly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const down = time.Minute
		f := newFleet(t, &fakeHost{name: "h", downFor: down, pending: []patch.Update{upd("kernel", true, true)}})
		_, rec := runPlan(t, context.Background(), realTimePlan(report.CmdPatch, f), f, nil)
		n := 0
		for _, e := range rec.kinds(EventLog) {
			if e.Detail == "probe: no connection" {
				n++
			}
		}
		if maxLines := int(down/DefaultPollMax) + 2; n == 0 || n > maxLines {
			t.Errorf("%d probe log lines for %s down (%d dials), want 1..%d", n, down, f.host("h").dials, maxLines)
		}
	})
}

// A backend that reads the reboot signals with the boot id (patch.BootStater)
// spares the reboot-required check after the reboot: one round trip less per
// reboot, same outcome (a flag that survives the reboot still fails the host,
// with its reason).
func TestRebootSignalsReadWithBootID(t *testing.T) {
	for _, sticky := range []bool{false, true} {
		checks := map[bool]int{}
		for _, stater := range []bool{false, true} {
			synctest.Test(t, func(t *testing.T) {
				h := &fakeHost{name: "h", stickyReboot: sticky, bootState: stater, readyFails: 1,
					pending: []patch.Update{upd("kernel", true, true)}}
				f := newFleet(t, h)
				plan := realTimePlan(report.CmdPatch, f)
				plan.MaxRounds = 1
				rep, rec := runPlan(t, context.Background(), plan, f, nil)
				checkEvents(t, rep, rec)
				r := rep.Hosts[0]
				wantStatus, wantKind := report.StatusOK, ""
				if sticky {
					wantStatus, wantKind = report.StatusFailed, "still-reboot-required"
				}
				if r.Status != wantStatus || r.ErrorKind != wantKind || !r.Rebooted || r.BootIDAfter != "h-boot-1" {
					t.Fatalf("sticky %v stater %v: status %s kind %q rebooted %v boot %q; error %q",
						sticky, stater, r.Status, r.ErrorKind, r.Rebooted, r.BootIDAfter, r.Error)
				}
				if r.RebootRequired != sticky || (sticky && !slices.Equal(r.RebootReasons, []string{"fake-flag"})) {
					t.Errorf("sticky %v stater %v: reboot required %v %v", sticky, stater, r.RebootRequired, r.RebootReasons)
				}
				checks[stater] = f.host("h").rebootChecks
			})
		}
		if checks[true] != checks[false]-1 {
			t.Errorf("sticky %v: %d reboot-required checks with the boot state read, %d without; want one less",
				sticky, checks[true], checks[false])
		}
	}
}

// With a lease just renewed over the host's connection, a backend that
// reboots on condition of a boot id (patch.BootIDRebooter) is given the id
// last seen, and the boot id read before the reboot is spared. If the host
// no longer runs that boot, nothing is scheduled and the id is read the
// usual way: the host is still rebooted once, proven by a new boot id.
func TestRebootIfBootSparesTheBootIDRead(t *testing.T) {
	for _, stale := range []bool{false, true} {
		reads := map[bool]int{}
		for _, stater := range []bool{false, true} {
			synctest.Test(t, func(t *testing.T) {
				h := &fakeHost{name: "h", bootState: stater, staleFacts: stale,
					pending: []patch.Update{upd("kernel", true, true)}}
				f := newFleet(t, h)
				plan := leasedPlan(report.CmdPatch, f)
				plan.MaxRounds = 1
				rep, rec := runPlan(t, context.Background(), plan, f, nil)
				checkEvents(t, rep, rec)
				r := rep.Hosts[0]
				if r.Status != report.StatusOK || !r.Rebooted || r.BootIDBefore != "h-boot-0" || r.BootIDAfter != "h-boot-1" || f.host("h").reboots != 1 {
					t.Fatalf("stale %v stater %v: status %s rebooted %v (%d times) boot %q → %q; error %q",
						stale, stater, r.Status, r.Rebooted, f.host("h").reboots, r.BootIDBefore, r.BootIDAfter, r.Error)
				}
				reads[stater] = f.host("h").bootIDReads
			})
		}
		want := reads[false] - 1
		if stale {
			want = reads[false]
		}
		if reads[true] != want {
			t.Errorf("stale facts %v: %d boot id reads with the conditional reboot, %d without; want %d",
				stale, reads[true], reads[false], want)
		}
	}
}

// A backend that can rescan inside the boot id read after a reboot
// (patch.BootQuery.Scan) spares patch's separate rescan: the same
// outcome (the wave of updates the reboot revealed is found and
// installed) with one command less per reboot; a rescan that fails there
// still fails the host as a failed scan, not as a host that never came
// back.
func TestRescanReadWithBootID(t *testing.T) {
	scans := map[bool]int{}
	for _, stater := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			h := &fakeHost{name: "h", bootState: stater, installReboot: true,
				pending: []patch.Update{upd("kernel", true, true)},
				waves:   [][]patch.Update{{upd("microcode", false, false)}}}
			f := newFleet(t, h)
			plan := realTimePlan(report.CmdPatch, f)
			plan.MaxRounds = 2
			rep, rec := runPlan(t, context.Background(), plan, f, nil)
			checkEvents(t, rep, rec)
			r := rep.Hosts[0]
			if r.Status != report.StatusOK || f.host("h").reboots != 2 || !slices.Contains(f.host("h").installedNames, "microcode") {
				t.Fatalf("stater %v: status %s after %d reboots, installed %v; error %q",
					stater, r.Status, f.host("h").reboots, f.host("h").installedNames, r.Error)
			}
			f.snapshot(func() {
				scans[stater] = f.hosts["h"].scans
				if got, want := f.hosts["h"].bootScans, map[bool]int{false: 0, true: 2}[stater]; got != want {
					t.Errorf("stater %v: %d rescans inside the boot id read, want %d", stater, got, want)
				}
			})
		})
	}
	if scans[true] != scans[false]-2 {
		t.Errorf("%d separate scans with the rescan in the boot id read, %d without; want 2 less (one per reboot)", scans[true], scans[false])
	}

	// A boot id read whose rescan makes it fail (an answer over the output
	// cap, a scan slower than the read's bound) is not a host that is not
	// back: the next read goes without the rescan, and verify rescans.
	synctest.Test(t, func(t *testing.T) {
		h := &fakeHost{name: "h", bootState: true, installReboot: true,
			pending:     []patch.Update{upd("kernel", true, true)},
			scanReadErr: fmt.Errorf("boot id: %w", patch.ErrCommandFailed)}
		f := newFleet(t, h)
		rep, rec := runPlan(t, context.Background(), realTimePlan(report.CmdPatch, f), f, nil)
		checkEvents(t, rep, rec)
		r := rep.Hosts[0]
		if r.Status != report.StatusOK || !r.Rebooted || f.host("h").reboots != 1 {
			t.Errorf("boot id read with the rescan failing: status %s rebooted %v (%d reboots), error %q; want ok, rebooted once",
				r.Status, r.Rebooted, f.host("h").reboots, r.Error)
		}
	})

	synctest.Test(t, func(t *testing.T) {
		h := &fakeHost{name: "h", bootState: true, installReboot: true,
			pending:   []patch.Update{upd("kernel", true, true)},
			rescanErr: fmt.Errorf("apt-get -s dist-upgrade: %w", patch.ErrCommandFailed)}
		f := newFleet(t, h)
		rep, rec := runPlan(t, context.Background(), realTimePlan(report.CmdPatch, f), f, nil)
		checkEvents(t, rep, rec)
		r := rep.Hosts[0]
		if r.Status != report.StatusFailed || !r.Rebooted || !strings.Contains(r.Error, "scan") || !strings.Contains(r.Error, "apt-get -s") || f.host("h").reboots != 1 {
			t.Errorf("rescan failing after the reboot: status %s rebooted %v (%d reboots), error %q; want failed at the scan, rebooted once",
				r.Status, r.Rebooted, f.host("h").reboots, r.Error)
		}
	})
}
