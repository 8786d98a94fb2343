package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// detachedBackend is a backend whose installs run as jobs on the host: its
// Install loses the link (losses times) while the job goes on, and
// ReattachInstall follows the same job over the new connection to its real
// end (the wrapped backend's install). Used by one host's worker only.
type detachedBackend struct {
	patch.Backend
	f        *fakeFleet
	losses   int
	runID    string
	started  []string // jobs started (never two for one install)
	attached []string // jobs re-attached
	conns    map[transport.Transport]bool
	gone     bool // after the first loss the host cannot be dialled
	// refreshLost: the link drops once during the metadata refresh job.
	refreshLost bool
	// noJob: the job to re-attach to is not on the host.
	noJob bool
}

func (b *detachedBackend) NameJobs(runID string) { b.runID = runID }

func (b *detachedBackend) Refresh(ctx context.Context, t transport.Transport) error {
	b.conns[t] = true
	if b.refreshLost {
		b.refreshLost = false
		return &patch.JobLostError{Job: "patchrun-refresh-" + b.runID + "-1", Err: transport.ErrConnLost}
	}
	return b.Backend.Refresh(ctx, t)
}

func (b *detachedBackend) ReattachRefresh(ctx context.Context, t transport.Transport, job string) error {
	if b.conns[t] {
		return errors.New("re-attached over the dropped connection")
	}
	b.conns[t] = true
	b.attached = append(b.attached, job)
	return b.Backend.Refresh(ctx, t)
}

func (b *detachedBackend) Install(ctx context.Context, t transport.Transport, ups []patch.Update, full bool) (patch.InstallResult, error) {
	job := fmt.Sprintf("patchrun-install-%s-%d", b.runID, len(b.started)+1)
	b.started = append(b.started, job)
	b.conns[t] = true
	return b.follow(ctx, t, job, ups, full)
}

func (b *detachedBackend) follow(ctx context.Context, t transport.Transport, job string, ups []patch.Update, full bool) (patch.InstallResult, error) {
	if b.losses > 0 {
		b.losses--
		if b.gone {
			b.f.mu.Lock()
			b.f.hosts["a"].dialErr = transport.ErrUnreachable
			b.f.mu.Unlock()
		}
		return patch.InstallResult{Updates: ups}, &patch.JobLostError{Job: job, Err: fmt.Errorf("wait: %w", transport.ErrConnLost)}
	}
	return b.Backend.Install(ctx, t, ups, full)
}

func (b *detachedBackend) ReattachInstall(ctx context.Context, t transport.Transport, job string, ups []patch.Update, full bool) (patch.InstallResult, error) {
	if b.conns[t] {
		return patch.InstallResult{}, errors.New("re-attached over the dropped connection")
	}
	b.conns[t] = true
	b.attached = append(b.attached, job)
	if b.noJob {
		return patch.InstallResult{Updates: ups}, &patch.CommandError{Command: "job " + job, ExitCode: -1, Cause: patch.ErrNoSuchJob}
	}
	return b.follow(ctx, t, job, ups, full)
}

// A link lost while a detached install runs: the runner reconnects and
// re-attaches to the same job, as often as the link drops, and the host
// ends with the job's real result (ok, installed), not a guess.
func TestLostLinkReattachesToTheSameJob(t *testing.T) {
	for _, losses := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d losses", losses), func(t *testing.T) {
			a := &fakeHost{name: "a", pending: []patch.Update{upd("openssl", true, false), upd("curl", false, false)}}
			f := newFleet(t, a)
			var be *detachedBackend
			plan := fastPlan(report.CmdPatch, f)
			plan.RunID = "r1"
			rec := newRecorder(t)
			deps := f.deps()
			deps.Observer = rec
			j := &memJournal{}
			deps.Journal = j
			deps.Detect = func(ctx context.Context, h inventory.Host, tr transport.Transport) (patch.Backend, error) {
				inner, err := f.detect(ctx, h, tr)
				be = &detachedBackend{Backend: inner, f: f, losses: losses, conns: map[transport.Transport]bool{}}
				return be, err
			}
			rep, err := Run(context.Background(), plan, deps)
			if err != nil {
				t.Fatal(err)
			}
			checkEvents(t, rep, rec)
			h := byName(rep)["a"]
			if h.Status != report.StatusOK || rep.Summary.UpdatesInstalled != 2 || rep.Summary.UpdatesUnknown != 0 {
				t.Fatalf("status %s error %q, summary %+v; want ok with 2 installed", h.Status, h.Error, rep.Summary)
			}
			if len(be.started) != 1 || be.started[0] != "patchrun-install-r1-1" {
				t.Fatalf("jobs started %v; want exactly one, named after the run", be.started)
			}
			if len(be.attached) != losses || be.attached[losses-1] != "patchrun-install-r1-1" {
				t.Fatalf("re-attached %v; want %d times to the same job", be.attached, losses)
			}
			// The lost job is durable before the reconnect, for a resume.
			var journaled bool
			for _, c := range j.of("a") {
				journaled = journaled || (c.Phase == report.PhaseInstalling && c.Job == "patchrun-install-r1-1")
			}
			if !journaled {
				t.Errorf("no checkpoint names the lost job: %+v", j.of("a"))
			}
			var logged bool
			for _, e := range rec.kinds(EventLog) {
				logged = logged || strings.Contains(e.Detail, "job patchrun-install-r1-1: connection lost; reconnecting to re-attach")
			}
			if !logged {
				t.Error("the re-attach is not in the log")
			}
		})
	}
}

// When the host cannot be reached again before the install step's
// deadline, the lost-install rescan decides as before: the outcome is
// unknown, never "not installed".
func TestLostLinkWithoutReconnectIsUnknown(t *testing.T) {
	a := &fakeHost{name: "a", pending: []patch.Update{upd("openssl", true, false)}}
	f := newFleet(t, a)
	plan := fastPlan(report.CmdPatch, f)
	plan.StepTimeout = 20 * time.Millisecond
	deps := f.deps()
	deps.Detect = func(ctx context.Context, h inventory.Host, tr transport.Transport) (patch.Backend, error) {
		inner, err := f.detect(ctx, h, tr)
		return &detachedBackend{Backend: inner, f: f, losses: 1, gone: true, conns: map[transport.Transport]bool{}}, err
	}
	rep, err := Run(context.Background(), plan, deps)
	if err != nil {
		t.Fatal(err)
	}
	h := byName(rep)["a"]
	// The install step's deadline ends the reconnect attempts.
	if h.Status != report.StatusFailed || h.ErrorKind != "timeout" || !strings.Contains(h.Error, "still running on the host") ||
		!strings.Contains(h.Error, "reconnect to re-attach: dial a: unreachable") ||
		rep.Summary.UpdatesUnknown != 1 {
		t.Fatalf("status %s kind %s error %q unknown %d", h.Status, h.ErrorKind, h.Error, rep.Summary.UpdatesUnknown)
	}
}

// The metadata refresh runs detached too: a link lost during it is
// re-attached the same way, and the run goes on to scan and install.
func TestLostLinkDuringRefreshReattaches(t *testing.T) {
	a := &fakeHost{name: "a", pending: []patch.Update{upd("openssl", true, false)}}
	f := newFleet(t, a)
	plan := fastPlan(report.CmdPatch, f)
	plan.RunID = "r2"
	var be *detachedBackend
	deps := f.deps()
	deps.Detect = func(ctx context.Context, h inventory.Host, tr transport.Transport) (patch.Backend, error) {
		inner, err := f.detect(ctx, h, tr)
		be = &detachedBackend{Backend: inner, f: f, refreshLost: true, conns: map[transport.Transport]bool{}}
		return be, err
	}
	rep, err := Run(context.Background(), plan, deps)
	if err != nil {
		t.Fatal(err)
	}
	if h := byName(rep)["a"]; h.Status != report.StatusOK || rep.Summary.UpdatesInstalled != 1 {
		t.Fatalf("status %s error %q installed %d; want ok, 1 installed", h.Status, h.Error, rep.Summary.UpdatesInstalled)
	}
	if len(be.attached) != 1 || be.attached[0] != "patchrun-refresh-r2-1" {
		t.Fatalf("re-attached %v; want the refresh job once", be.attached)
	}
}

// A run resumed after its controller died while the link to a detached
// install was lost (the journal names the job) follows that same job to its
// end and starts no transaction beside it. When the job is no longer on
// the host, it installs again; either way the host ends ok, installed.
func TestResumeReattachesToTheJournaledJob(t *testing.T) {
	for _, gone := range []bool{false, true} {
		t.Run(fmt.Sprintf("job gone %v", gone), func(t *testing.T) {
			a := &fakeHost{name: "a", pending: []patch.Update{upd("openssl", true, false), upd("curl", false, false)}}
			f := newFleet(t, a)
			plan := fastPlan(report.CmdPatch, f)
			plan.RunID = "r0"
			plan.Resume = &ResumeState{Hosts: map[string]ResumedHost{"a": {Checkpoint: Checkpoint{
				Host: "a", Phase: report.PhaseInstalling, Round: 1, Job: "patchrun-install-r0-1",
				Selected: []patch.Update{upd("openssl", true, false), upd("curl", false, false)},
			}}}}
			var be *detachedBackend
			rec := newRecorder(t)
			deps := f.deps()
			deps.Observer = rec
			deps.Detect = func(ctx context.Context, h inventory.Host, tr transport.Transport) (patch.Backend, error) {
				inner, err := f.detect(ctx, h, tr)
				be = &detachedBackend{Backend: inner, f: f, noJob: gone, conns: map[transport.Transport]bool{}}
				return be, err
			}
			rep, err := Run(context.Background(), plan, deps)
			if err != nil {
				t.Fatal(err)
			}
			h := byName(rep)["a"]
			if h.Status != report.StatusOK || rep.Summary.UpdatesInstalled != 2 {
				t.Fatalf("status %s error %q, summary %+v; want ok with 2 installed", h.Status, h.Error, rep.Summary)
			}
			if len(be.attached) != 1 || be.attached[0] != "patchrun-install-r0-1" {
				t.Fatalf("re-attached %v; want the journaled job once", be.attached)
			}
			if want := map[bool]int{false: 0, true: 1}[gone]; len(be.started) != want {
				t.Fatalf("jobs started %v; want %d", be.started, want)
			}
			var logged bool
			for _, e := range rec.kinds(EventLog) {
				logged = logged || strings.Contains(e.Detail, "re-attaching to install job patchrun-install-r0-1")
			}
			if !logged {
				t.Error("the re-attach is not in the log")
			}
		})
	}
}
