package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/patchrun/patchrun/runner"
)

// eventLine is one line of the --events JSONL stream. Event names are the
// same fixed names as the log's.
type eventLine struct {
	Time   time.Time `json:"time"`
	Event  string    `json:"event"`
	Host   string    `json:"host,omitempty"`
	Phase  string    `json:"phase,omitempty"`
	Status string    `json:"status,omitempty"`
	Batch  int       `json:"batch,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Error  string    `json:"error,omitempty"`
	Output string    `json:"output,omitempty"` // tail of a failed command's or an install's output
}

// eventSignal names a Ctrl-C notice (not a runner event) in the log and the
// --events stream.
const eventSignal = "run.signal"

// eventName maps an event kind to its fixed name.
func eventName(k runner.EventKind) string {
	switch k {
	case runner.EventPhase:
		return "host.phase"
	case runner.EventHostEnd:
		return "host.done"
	case runner.EventLog:
		return "step"
	case runner.EventBatch:
		return "batch.start"
	case runner.EventHalt:
		return "run.halt"
	case runner.EventInterrupt:
		return "run.interrupt"
	}
	return "unknown"
}

// eventsObserver writes every event as a JSON line to a file, then passes
// it on. It is called under lockedObserver's lock like any observer.
type eventsObserver struct {
	next observer
	file *os.File
	buf  *bufio.Writer
	enc  *json.Encoder
	err  error // first write error; reported once at the end
}

// openEvents creates the --events file. "-" is refused: stdout carries only
// the result.
func openEvents(path string, next observer) (*eventsObserver, error) {
	if path == "-" {
		return nil, fmt.Errorf("--events -: stdout carries only the result (hint: --events run-events.jsonl)")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--events: %w", err)
	}
	buf := bufio.NewWriter(f)
	return &eventsObserver{next: next, file: f, buf: buf, enc: json.NewEncoder(buf)}, nil
}

func (e *eventsObserver) write(l eventLine) {
	if e.err != nil {
		return
	}
	e.err = e.enc.Encode(l)
	if e.err == nil {
		// Flush per event: a tail -f (or a CI log follower) sees progress
		// as it happens, and a crash loses nothing already reported.
		e.err = e.buf.Flush()
	}
}

func (e *eventsObserver) Event(ev runner.Event) {
	l := eventLine{Time: ev.Time, Event: eventName(ev.Kind), Host: ev.Host, Phase: string(ev.Phase),
		Status: string(ev.Status), Batch: ev.Batch, Detail: ev.Detail, Output: ev.Output}
	if l.Time.IsZero() {
		l.Time = time.Now()
	}
	if ev.Err != nil {
		l.Error = ev.Err.Error()
	}
	e.write(l)
	e.next.Event(ev)
}

func (e *eventsObserver) tick() { e.next.tick() }

func (e *eventsObserver) notice(msg string) {
	e.write(eventLine{Time: time.Now(), Event: eventSignal, Detail: msg})
	e.next.notice(msg)
}

// finish closes the file and reports the first write error, if any, on
// the next observer (the run's result is still printed).
func (e *eventsObserver) finish() {
	if err := e.file.Close(); err != nil && e.err == nil {
		e.err = err
	}
	if e.err != nil {
		e.next.notice(fmt.Sprintf("--events %s: %v (the stream is incomplete)", e.file.Name(), e.err))
	}
	e.next.finish()
}
