package cmd

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/patchrun/patchrun/inventory"
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
	Wave   int       `json:"wave,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Error  string    `json:"error,omitempty"`
	Output string    `json:"output,omitempty"` // tail of a failed command's or an install's output
	RunID  string    `json:"run_id,omitempty"` // run.start
}

// eventSignal names a signal notice (not a runner event) in the log and
// the --events stream.
const eventSignal = "run.signal"

// eventRunStart is the first line of the --events stream of a recorded
// run: its run id, command and host count.
const eventRunStart = "run.start"

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
	case runner.EventLock:
		return "host.lock"
	case runner.EventWaveStart:
		return "wave.start"
	case runner.EventWaveEnd:
		return "wave.end"
	case runner.EventWindowClosed:
		return "run.window-closed"
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

// eventsError names, in the log, the failure to write the --events stream.
const eventsError = "events.error"

// runInput is a file the run reads: --events must never overwrite one.
type runInput struct{ what, path string }

// openEvents creates the --events file, 0600 (it holds remote output),
// without following a symbolic link at its last component, and refuses a
// file that is one of the run's inputs (compared by identity, so another
// spelling of the same path or a hard link is caught too). "-" is
// refused: stdout carries only the result.
func openEvents(path string, inputs []runInput, stdout any, next observer) (*eventsObserver, error) {
	if path == "-" {
		return nil, fmt.Errorf("--events -: stdout carries only the result (hint: --events run-events.jsonl)")
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("--events %s: is a symbolic link, which patchrun does not follow (hint: name the file itself)", path)
	}
	f, err := createNoFollow(path)
	if err != nil {
		return nil, fmt.Errorf("--events: %w", err)
	}
	if err := checkEventsFile(f, inputs, stdout); err != nil {
		f.Close()
		return nil, fmt.Errorf("--events %s: %w", path, err)
	}
	buf := bufio.NewWriter(f)
	return &eventsObserver{next: next, file: f, buf: buf, enc: json.NewEncoder(buf)}, nil
}

// checkEventsFile refuses what the opened file must not be, then empties
// it: nothing is truncated before the checks pass. stdout is the result's
// stream: a file both are written to would hold neither.
func checkEventsFile(f *os.File, inputs []runInput, stdout any) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	// A character device (/dev/null, a terminal) is a fine sink; a
	// directory, pipe or block device is not.
	if !fi.Mode().IsRegular() && fi.Mode()&os.ModeCharDevice == 0 {
		return fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	for _, in := range inputs {
		if st, err := os.Stat(in.path); err == nil && os.SameFile(fi, st) {
			return fmt.Errorf("is the run's %s %s: refusing to overwrite an input (hint: --events run-events.jsonl)", in.what, in.path)
		}
	}
	if out, ok := stdout.(*os.File); ok && fi.Mode().IsRegular() {
		if st, err := out.Stat(); err == nil && os.SameFile(fi, st) {
			return fmt.Errorf("is where stdout goes: the result and the events would overwrite each other (hint: --events run-events.jsonl)")
		}
	}
	if fi.Mode().IsRegular() {
		return f.Truncate(0)
	}
	return nil
}

// runInputs lists the files a run over hosts reads: the inventory, the
// files it names, and everything in ~/.ssh (default keys, known_hosts,
// the IdentityFile of an ssh config).
func runInputs(inventoryPath, home, sshConfig string, hosts []inventory.Host) []runInput {
	seen := map[string]bool{}
	var out []runInput
	add := func(what, path string) {
		if path != "" && !seen[path] {
			seen[path] = true
			out = append(out, runInput{what, path})
		}
	}
	add("inventory", inventoryPath)
	add("ssh config", sshConfig)
	for _, h := range hosts {
		if h.SSH != nil {
			add("key file", h.SSH.Key)
			add("known_hosts file", h.SSH.KnownHosts)
		}
		if p, ok := strings.CutPrefix(h.Password.Source(), "file:"); ok {
			add("password file", p)
		}
		if h.WinRM != nil {
			add("CA bundle", h.WinRM.CACert)
			add("krb5.conf", h.WinRM.Krb5Conf)
			add("Kerberos credential cache", h.WinRM.KerberosCCache)
		}
	}
	if home != "" {
		sshDir, _ := filepath.Glob(filepath.Join(home, ".ssh", "*"))
		for _, p := range sshDir {
			add("file in ~/.ssh", p)
		}
	}
	return out
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
	if e.err != nil {
		// Said once, when it happens; the run's end reports it again.
		e.next.notice(eventsError, fmt.Sprintf("--events %s: %v (the stream stops here; the run goes on)", e.file.Name(), e.err))
	}
}

// lineOf is ev as a line of the --events stream (and of the journal).
func lineOf(ev runner.Event) eventLine {
	l := eventLine{Time: ev.Time, Event: eventName(ev.Kind), Host: ev.Host, Phase: string(ev.Phase),
		Status: string(ev.Status), Batch: ev.Batch, Wave: ev.Wave, Detail: ev.Detail, Output: ev.Output}
	if l.Time.IsZero() {
		l.Time = time.Now()
	}
	if ev.Err != nil {
		l.Error = ev.Err.Error()
	}
	return l
}

func (e *eventsObserver) Event(ev runner.Event) {
	e.write(lineOf(ev))
	e.next.Event(ev)
}

func (e *eventsObserver) tick() { e.next.tick() }

func (e *eventsObserver) notice(event, msg string) {
	e.write(eventLine{Time: time.Now(), Event: event, Detail: msg})
	e.next.notice(event, msg)
}

// finish closes the file; a failed write or close is returned as a part
// of the result that could not be written.
func (e *eventsObserver) finish() error {
	if err := e.file.Close(); err != nil && e.err == nil {
		e.err = err
	}
	nextErr := e.next.finish()
	if e.err != nil {
		return errors.Join(&resultError{fmt.Errorf("--events %s: %w (the stream is incomplete)", e.file.Name(), e.err)}, nextErr)
	}
	return nextErr
}
