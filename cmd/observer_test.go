package cmd

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// The terminal observer must put failures and batch starts on lines of
// their own above the bar, move from the scan+install bar to a reboot bar
// sized to the hosts awaiting reboot, and finish both at 100%.
func TestBarObserverStagesAndLinesAboveTheBar(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := newBarObserver(&out, log, false, 3, report.CmdPatch)
	events := []runner.Event{
		{Kind: runner.EventPhase, Host: "web1", Phase: report.PhaseAwaitBatch},
		{Kind: runner.EventPhase, Host: "web2", Phase: report.PhaseAwaitBatch},
		{Kind: runner.EventHostEnd, Host: "db1", Status: report.StatusUnreachable, Err: errors.New("connect: dial tcp 10.0.0.7:22: i/o timeout")},
		{Kind: runner.EventBatch, Batch: 1, Detail: "web1"},
		{Kind: runner.EventHostEnd, Host: "web1", Status: report.StatusOK},
		{Kind: runner.EventBatch, Batch: 2, Detail: "web2"},
		{Kind: runner.EventHostEnd, Host: "web2", Status: report.StatusFailed, Err: errors.New("host did not come back within 15m0s")},
	}
	for _, e := range events {
		b.Event(e)
	}
	b.finish()
	text := out.String()
	for _, want := range []string{
		"✗ db1 unreachable: connect: dial tcp 10.0.0.7:22: i/o timeout\n",
		"→ reboot batch 1: web1\n",
		"→ reboot batch 2: web2\n",
		"✗ web2 failed: host did not come back within 15m0s\n",
		"(3/3)", // the scan+install bar completed
		"(2/2)", // the reboot bar counted the two hosts awaiting reboot
	} {
		if !strings.Contains(text, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "(3/2)") || strings.Contains(text, "(4/3)") {
		t.Errorf("a bar overcounted:\n%s", text)
	}
}

// In a rolling run with waves one bar counts every host to its end,
// whether it was rebooted or not, and waves and batches are announced
// above it.
func TestBarObserverOneStageForARollout(t *testing.T) {
	var out bytes.Buffer
	b := newBarObserver(&out, slog.New(slog.NewTextHandler(io.Discard, nil)), false, 3, report.CmdPatch)
	b.oneStage()
	for _, e := range []runner.Event{
		{Kind: runner.EventWaveStart, Wave: 1, Detail: "db: 1 hosts"},
		{Kind: runner.EventBatch, Batch: 1, Wave: 1, Detail: "db1"},
		{Kind: runner.EventPhase, Host: "db1", Phase: report.PhaseAwaitBatch},
		{Kind: runner.EventHostEnd, Host: "db1", Status: report.StatusOK},
		{Kind: runner.EventWaveEnd, Wave: 1, Detail: "1 hosts: 1 ok"},
		{Kind: runner.EventBatch, Batch: 2, Wave: 2, Detail: "web1, web2"},
		{Kind: runner.EventHostEnd, Host: "web1", Status: report.StatusOK},
		{Kind: runner.EventWindowClosed, Detail: "the maintenance window closed at 05:30"},
		{Kind: runner.EventHostEnd, Host: "web2", Status: report.StatusSkipped},
	} {
		b.Event(e)
	}
	b.finish()
	text := out.String()
	for _, want := range []string{"▶ wave 1: db: 1 hosts\n", "→ batch 2: web1, web2\n", "✓ wave 1 ended", "■ window closed: the maintenance window closed at 05:30\n", "rollout", "(3/3)"} {
		if !strings.Contains(text, want) {
			t.Errorf("terminal output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "reboot batch") || strings.Contains(text, "(4/3)") {
		t.Errorf("a second stage or an overcount:\n%s", text)
	}
}

func TestLineObserverUsesFixedEventNames(t *testing.T) {
	var out bytes.Buffer
	l := &lineObserver{log: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Event(runner.Event{Kind: runner.EventPhase, Host: "web1", Phase: report.PhaseScanning})
	l.Event(runner.Event{Kind: runner.EventLog, Host: "web1", Phase: report.PhaseScanning, Detail: `run "apt-get -s dist-upgrade": exit 0 in 3ms`})
	l.Event(runner.Event{Kind: runner.EventBatch, Batch: 1, Detail: "web1, web2"})
	l.Event(runner.Event{Kind: runner.EventHostEnd, Host: "web1", Status: report.StatusFailed, Err: errors.New("boom")})
	l.Event(runner.Event{Kind: runner.EventHalt, Detail: "3 failures > limit 2"})
	l.Event(runner.Event{Kind: runner.EventWaveStart, Wave: 2, Detail: "web: 4 hosts"})
	l.Event(runner.Event{Kind: runner.EventBatch, Batch: 3, Wave: 2, Detail: "web1"})
	l.Event(runner.Event{Kind: runner.EventWindowClosed, Detail: "closed"})
	text := out.String()
	for _, want := range []string{
		`msg=wave.start wave=2 detail="web: 4 hosts"`,
		"msg=batch.start batch=3 wave=2 hosts=web1",
		"level=WARN msg=run.window-closed detail=closed",
		"msg=host.phase host=web1 phase=scanning",
		"msg=step host=web1 phase=scanning",
		"msg=batch.start batch=1",
		"level=WARN msg=host.done host=web1 status=failed error=boom",
		"level=WARN msg=run.halt",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}
}

func TestInflightSummary(t *testing.T) {
	f := newInflight()
	for _, e := range []runner.Event{
		{Kind: runner.EventPhase, Host: "web3", Phase: report.PhaseInstalling},
		{Kind: runner.EventPhase, Host: "db1", Phase: report.PhaseWaitingUp},
		{Kind: runner.EventPhase, Host: "web1", Phase: report.PhaseScanning},
		{Kind: runner.EventPhase, Host: "web2", Phase: report.PhaseAwaitBatch}, // idle, not busy
		{Kind: runner.EventPhase, Host: "web4", Phase: report.PhaseScanning},
		{Kind: runner.EventHostEnd, Host: "web4", Status: report.StatusOK},
	} {
		f.track(e)
	}
	if got, want := f.summary(2), "db1 waiting-up, web1 scanning +1"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if f.done != 1 {
		t.Errorf("done = %d, want 1", f.done)
	}
}

// countingObserver counts ticks; every tick must happen under the lock and
// none after finish.
type countingObserver struct {
	ticks    chan struct{}
	finished bool
	late     bool
}

func (c *countingObserver) Event(runner.Event) {}
func (c *countingObserver) notice(_, _ string) {}
func (c *countingObserver) tick() {
	if c.finished {
		c.late = true
	}
	select {
	case c.ticks <- struct{}{}:
	default:
	}
}
func (c *countingObserver) finish() error { c.finished = true; return nil }

func TestLockedObserverTicksUntilFinish(t *testing.T) {
	inner := &countingObserver{ticks: make(chan struct{}, 1)}
	l := newLockedObserver(inner, time.Millisecond)
	for i := 0; i < 3; i++ {
		select {
		case <-inner.ticks:
		case <-time.After(10 * time.Second):
			t.Fatal("no tick: a long phase would show a frozen bar")
		}
	}
	l.finish()
	if inner.late {
		t.Error("tick after finish: the ticker goroutine was not joined")
	}
}

func TestLineObserverProgressNamesBusyHosts(t *testing.T) {
	var out bytes.Buffer
	l := &lineObserver{log: slog.New(slog.NewTextHandler(&out, nil)), total: 3, busy: newInflight()}
	l.tick() // nothing busy: no line
	l.Event(runner.Event{Kind: runner.EventPhase, Host: "web1", Phase: report.PhaseInstalling})
	l.Event(runner.Event{Kind: runner.EventHostEnd, Host: "web2", Status: report.StatusOK})
	l.tick()
	text := out.String()
	if strings.Count(text, "run.progress") != 1 || !strings.Contains(text, `done=1 total=3 busy="web1 installing"`) {
		t.Errorf("progress line wrong:\n%s", text)
	}
}
