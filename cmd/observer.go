package cmd

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/patchrun/patchrun/internal/termtext"
	"github.com/patchrun/patchrun/journal"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
)

// observer turns runner events into what a person sees on stderr: it is
// the one writer of stderr during a run.
type observer interface {
	runner.Observer
	// notice tells the user something that is not a runner event (a
	// Ctrl-C being handled), logged under the event name given.
	notice(event, msg string)
	// tick is called periodically so long phases still show progress.
	tick()
	// finish ends the output; its error is a part of the result that
	// could not be written (the --events stream).
	finish() error
}

// newObserver returns the run's observer, locked: the runner serialises its
// own Event calls, but notices come from the signal goroutine. With
// --events it also writes the JSONL stream.
func (a *app) newObserver(o *commonOptions, plan runner.Plan, inputs []runInput, jw *journal.Writer) (observer, error) {
	log := a.logger(o.verbose)
	todo := len(plan.Hosts) - plan.Resume.Ended() // a resumed run's hosts that ended before are done
	var inner observer = &lineObserver{log: log, total: todo, busy: newInflight()}
	every := lineProgressEvery
	if a.stderrIsTerminal() && !o.noProgress {
		b := newBarObserver(a.streams.Err, log, o.verbose, todo, plan.Command)
		if plan.Rolling || len(plan.Waves) > 0 {
			b.oneStage()
		}
		inner = b
		every = barRefreshEvery
	}
	if o.events != "" {
		ev, err := openEvents(o.events, inputs, a.stdout, inner)
		if err != nil {
			return nil, err
		}
		if plan.RunID != "" {
			ev.write(eventLine{Time: time.Now(), Event: eventRunStart, RunID: plan.RunID,
				Detail: fmt.Sprintf("%s of %d hosts", plan.Command, len(plan.Hosts))})
		}
		inner = ev
	}
	if jw != nil {
		inner = &journalObserver{next: inner, w: jw}
	}
	return newLockedObserver(inner, every), nil
}

// journalObserver tees every event and notice into the run journal, then
// passes it on. A failed write is said once; the run goes on (the report's
// journal_error says the journal is incomplete).
type journalObserver struct {
	next   observer
	w      *journal.Writer
	failed bool
}

func (j *journalObserver) record(l eventLine) {
	if j.failed {
		return
	}
	if err := j.w.Event(l); err != nil {
		j.failed = true
		j.next.notice(eventSignal, fmt.Sprintf("%v (the run goes on)", err))
	}
}

func (j *journalObserver) Event(ev runner.Event) {
	j.record(lineOf(ev))
	j.next.Event(ev)
}

func (j *journalObserver) notice(event, msg string) {
	j.record(eventLine{Time: time.Now(), Event: event, Detail: msg})
	j.next.notice(event, msg)
}

func (j *journalObserver) tick()         { j.next.tick() }
func (j *journalObserver) finish() error { return j.next.finish() }

// How often a long phase still shows signs of life: the bar's clock and
// current hosts every second; a plain progress line every 30 s (cron logs).
const (
	barRefreshEvery   = time.Second
	lineProgressEvery = 30 * time.Second
)

// lockedObserver serialises every call into an observer, and owns the
// ticker goroutine that calls tick; finish stops and joins it.
type lockedObserver struct {
	mu    sync.Mutex
	inner observer
	stop  chan struct{}
	done  chan struct{}
}

func newLockedObserver(inner observer, every time.Duration) *lockedObserver {
	l := &lockedObserver{inner: inner, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				l.mu.Lock()
				l.inner.tick()
				l.mu.Unlock()
			}
		}
	}()
	return l
}

func (l *lockedObserver) tick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inner.tick()
}

func (l *lockedObserver) Event(e runner.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inner.Event(e)
}

func (l *lockedObserver) notice(event, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inner.notice(event, msg)
}

// finish stops the ticker (joining it) and finishes the inner observer.
// Safe to call once.
func (l *lockedObserver) finish() error {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inner.finish()
}

// lineObserver writes one timestamped line per event: for cron, CI and
// anything that is not a terminal.
type lineObserver struct {
	log   *slog.Logger
	total int
	busy  *inflight
}

func (l *lineObserver) Event(e runner.Event) {
	if l.busy != nil {
		l.busy.track(e)
	}
	logEvent(l.log, e)
}

// tick logs a progress line naming the hosts still busy, so a long
// install or reboot wait in a cron log is visibly alive.
func (l *lineObserver) tick() {
	if l.busy == nil || len(l.busy.phase) == 0 {
		return
	}
	l.log.Info("run.progress", "done", l.busy.done, "total", l.total, "busy", l.busy.summary(5))
}

func (l *lineObserver) notice(event, msg string) { l.log.Warn(event, "detail", msg) }

func (l *lineObserver) finish() error { return nil }

// logEvent maps an event to a fixed event name and attributes.
func logEvent(log *slog.Logger, e runner.Event) {
	name := eventName(e.Kind) // the same names as the --events stream
	attrs := []any{}
	if e.Host != "" {
		attrs = append(attrs, "host", e.Host)
	}
	switch e.Kind {
	case runner.EventPhase:
		log.Info(name, append(attrs, "phase", string(e.Phase))...)
	case runner.EventHostEnd:
		attrs = append(attrs, "status", string(e.Status))
		if e.Detail != "" {
			attrs = append(attrs, "detail", e.Detail)
		}
		if e.Err != nil {
			attrs = append(attrs, "error", e.Err.Error())
		}
		if e.Status == report.StatusOK {
			log.Info(name, attrs...)
		} else {
			log.Warn(name, attrs...)
		}
	case runner.EventLog:
		if e.Err != nil {
			attrs = append(attrs, "error", e.Err.Error())
		}
		attrs = append(attrs, "phase", string(e.Phase), "detail", e.Detail)
		if e.Output != "" {
			attrs = append(attrs, "output", e.Output)
		}
		log.Debug(name, attrs...)
	case runner.EventBatch:
		if e.Wave > 0 {
			log.Info(name, "batch", e.Batch, "wave", e.Wave, "hosts", e.Detail)
		} else {
			log.Info(name, "batch", e.Batch, "hosts", e.Detail)
		}
	case runner.EventWaveStart, runner.EventWaveEnd:
		log.Info(name, "wave", e.Wave, "detail", e.Detail)
	case runner.EventHalt, runner.EventInterrupt, runner.EventWindowClosed:
		log.Warn(name, "detail", e.Detail)
	case runner.EventLock:
		log.Warn(name, append(attrs, "detail", e.Detail)...)
	}
}

// barObserver shows one progress bar per stage (hosts through
// connect/scan/install, then hosts through reboot) and prints failures and
// batch starts above the bar, so log lines never garble it.
type barObserver struct {
	w        io.Writer
	log      *slog.Logger
	verbose  bool
	command  report.Command
	bar      *progressbar.ProgressBar
	stage    string
	total    int
	done     int
	failed   int
	poolDone map[string]bool // hosts that left the connect/scan/install stage
	waiting  int             // hosts that entered awaiting-batch
	busy     *inflight       // hosts in flight, shown in the description
	// rollout: one bar counts hosts to their end (rolling batches and
	// waves interleave installs and reboots, so there are no two stages).
	rollout bool
}

// oneStage makes the bar count every host to its end in one stage.
func (b *barObserver) oneStage() {
	b.rollout = true
	b.stage = "rollout"
	b.bar.Describe(b.describe())
}

func newBarObserver(w io.Writer, log *slog.Logger, verbose bool, hosts int, command report.Command) *barObserver {
	b := &barObserver{w: w, log: log, verbose: verbose, command: command, poolDone: map[string]bool{}, busy: newInflight()}
	b.startStage(stageName(command), hosts)
	return b
}

func stageName(c report.Command) string {
	switch c {
	case report.CmdScan:
		return "scan"
	case report.CmdExec:
		return "exec"
	case report.CmdFacts:
		return "facts"
	case report.CmdReboot:
		return "check"
	}
	return "scan+install"
}

func (b *barObserver) startStage(name string, total int) {
	if b.bar != nil {
		_ = b.bar.Finish()
		fmt.Fprintln(b.w)
	}
	b.stage, b.total, b.done, b.failed = name, total, 0, 0
	b.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSetDescription(b.describe()),
	)
}

func (b *barObserver) describe() string {
	d := fmt.Sprintf("%-13s", b.stage)
	if b.failed > 0 {
		d += fmt.Sprintf(" (%d failed)", b.failed)
	}
	if b.busy != nil {
		if s := b.busy.summary(2); s != "" {
			d += " · " + termtext.Line(s)
		}
	}
	return d
}

// tick redraws the bar: its clock moves and the busy hosts are current
// even when no event arrives for minutes (a long install).
func (b *barObserver) tick() {
	b.bar.Describe(b.describe())
}

// above prints a line above the bar, escaped: it carries host names,
// errors and remote output.
func (b *barObserver) above(line string) {
	_ = b.bar.Clear()
	fmt.Fprintln(b.w, termtext.Text(line))
	_ = b.bar.RenderBlank()
}

func (b *barObserver) Event(e runner.Event) {
	b.busy.track(e)
	if e.Kind == runner.EventPhase {
		b.bar.Describe(b.describe())
	}
	switch e.Kind {
	case runner.EventPhase:
		if e.Phase == report.PhaseAwaitBatch && !b.rollout && !b.poolDone[e.Host] {
			b.poolDone[e.Host] = true
			b.waiting++
			b.advance(false)
		}
	case runner.EventHostEnd:
		failed := e.Status == report.StatusFailed || e.Status == report.StatusUnreachable
		if failed {
			msg := fmt.Sprintf("✗ %s %s", e.Host, e.Status)
			if e.Err != nil {
				msg += ": " + e.Err.Error()
			} else if e.Detail != "" {
				msg += ": " + e.Detail
			}
			b.above(msg)
		}
		if b.rollout || b.stage == "reboot" || !b.poolDone[e.Host] {
			b.poolDone[e.Host] = true
			b.advance(failed)
		}
	case runner.EventBatch:
		if b.rollout {
			b.above(fmt.Sprintf("→ batch %d: %s", e.Batch, e.Detail))
			break
		}
		if b.stage != "reboot" {
			b.startStage("reboot", b.waiting)
		}
		b.above(fmt.Sprintf("→ reboot batch %d: %s", e.Batch, e.Detail))
	case runner.EventWaveStart:
		b.above(fmt.Sprintf("▶ wave %d: %s", e.Wave, e.Detail))
	case runner.EventWaveEnd:
		b.above(fmt.Sprintf("✓ wave %d ended: %s", e.Wave, e.Detail))
	case runner.EventWindowClosed:
		b.above("■ window closed: " + e.Detail)
	case runner.EventHalt:
		b.above("■ halted: " + e.Detail)
	case runner.EventInterrupt:
		b.above("■ interrupted: " + e.Detail)
	case runner.EventLock:
		b.above("⚑ " + e.Host + ": " + e.Detail)
	case runner.EventLog:
		if b.verbose {
			msg := fmt.Sprintf("  %s %s: %s", e.Host, e.Phase, e.Detail)
			if e.Err != nil {
				msg += " (" + e.Err.Error() + ")"
			}
			if e.Output != "" {
				msg += "\n      " + strings.ReplaceAll(strings.TrimRight(e.Output, "\n"), "\n", "\n      ")
			}
			b.above(msg)
		}
	}
}

func (b *barObserver) advance(failed bool) {
	b.done++
	if failed {
		b.failed++
	}
	b.bar.Describe(b.describe())
	_ = b.bar.Add(1)
}

func (b *barObserver) notice(_, msg string) { b.above("■ " + msg) }

func (b *barObserver) finish() error {
	if b.bar != nil {
		_ = b.bar.Finish()
		fmt.Fprintln(b.w)
	}
	return nil
}
