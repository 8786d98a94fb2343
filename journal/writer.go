package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
	"github.com/patchrun/patchrun/state"
)

// Writer appends a run's records to its journal. It implements
// runner.Journal.
//
// Concurrency: safe for concurrent use; records are written whole, one at
// a time. After a failed write every later call returns that error: a
// journal with a hole would mislead a resume.
type Writer struct {
	mu      sync.Mutex
	f       *os.File
	lock    *state.Lock
	path    string
	size    int64 // the file's size: where the next record starts
	synced  int64 // the file is durable up to here
	syncing bool  // an fsync is running (outside mu)
	flushed *sync.Cond
	fsync   func(*os.File) error // (*os.File).Sync; tests count the calls
	results resultIndex
	err     error
	now     func() time.Time
}

// ErrRunLive is returned by Append when another live process holds the
// run's lock.
var ErrRunLive = errors.New("the run is still running in another process")

// Create starts the journal of a new run in stateDir (which must exist,
// see state.Ensure): it makes runs/<run-id>/ (0700), takes the run's lock,
// creates journal.jsonl (0600, refusing an existing one) and writes h,
// durably. h.Format and h.StartedAt are filled if zero.
func Create(stateDir string, h Header) (*Writer, error) {
	if !state.ValidRunID(h.RunID) {
		return nil, fmt.Errorf("journal: bad run id %q", h.RunID)
	}
	dir := state.RunDir(stateDir, h.RunID)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	lock, err := state.TryLock(filepath.Join(dir, LockName), nil)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		lock.Unlock()
		return nil, fmt.Errorf("journal: %w", err)
	}
	w := newWriter(f, lock, path, 0, resultIndex{})
	if h.Format == 0 {
		h.Format = FormatVersion
	}
	if h.StartedAt.IsZero() {
		h.StartedAt = w.now()
	}
	if err := w.write(record{Type: TypeHeader, Time: h.StartedAt, Header: &h}, true); err != nil {
		w.Close()
		return nil, err
	}
	syncDir(dir)
	return w, nil
}

// Append continues the journal of run runID for a resumed run: it takes
// the run's lock (ErrRunLive if its process still runs), cuts a torn last
// line, and writes r. The Writer knows the results already in the journal,
// so Results covers every host of the run.
func Append(stateDir, runID string, r Resumed) (*Writer, error) {
	if !state.ValidRunID(runID) {
		return nil, fmt.Errorf("journal: bad run id %q", runID)
	}
	dir := state.RunDir(stateDir, runID)
	lock, err := state.TryLock(filepath.Join(dir, LockName), nil)
	if errors.Is(err, state.ErrLocked) {
		return nil, fmt.Errorf("run %s: %w", runID, ErrRunLive)
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	run, err := open(dir, runID)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	if run.Torn {
		if err := os.Truncate(path, run.size); err != nil {
			lock.Unlock()
			return nil, fmt.Errorf("journal: cut torn last line: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		lock.Unlock()
		return nil, fmt.Errorf("journal: %w", err)
	}
	w := newWriter(f, lock, path, run.size, run.results)
	if r.Time.IsZero() {
		r.Time = w.now()
	}
	if err := w.write(record{Type: TypeResumed, Time: r.Time, Resumed: &r}, true); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func newWriter(f *os.File, lock *state.Lock, path string, size int64, results resultIndex) *Writer {
	w := &Writer{f: f, lock: lock, path: path, size: size, synced: size, results: results, now: time.Now}
	w.flushed = sync.NewCond(&w.mu)
	w.fsync = (*os.File).Sync
	return w
}

// Path is the journal file's path.
func (w *Writer) Path() string { return w.path }

// Event records one event (any JSON-encodable value; the CLI writes its
// --events line). Not fsynced: events are for reading, checkpoints for
// resuming.
func (w *Writer) Event(ev any) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("journal: event: %w", err)
	}
	return w.write(record{Type: TypeEvent, Time: w.now(), Event: b}, false)
}

// Checkpoint records a host's phase change, durably (runner.Journal).
func (w *Writer) Checkpoint(c runner.Checkpoint) error {
	return w.write(record{Type: TypeCheckpoint, Time: w.now(), Checkpoint: &c}, true)
}

// Result records a host's final result, durably (runner.Journal).
func (w *Writer) Result(r report.HostResult) error {
	return w.write(record{Type: TypeResult, Time: w.now(), Result: &r}, true)
}

// End closes the segment with the run's outcome, durably.
func (w *Writer) End(e End) error {
	if e.Time.IsZero() {
		e.Time = w.now()
	}
	return w.write(record{Type: TypeEnd, Time: e.Time, End: &e}, true)
}

// write marshals rec and appends it as one line with one write call.
func (w *Writer) write(rec record, durable bool) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("journal: %s record: %w", rec.Type, err)
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.f == nil {
		return errors.New("journal: closed")
	}
	n, err := w.f.Write(line)
	if err != nil {
		return w.failLocked(err)
	}
	if rec.Result != nil {
		w.results.add(rec.Result.Name, span{off: w.size, n: n})
	}
	w.size += int64(n)
	if !durable {
		return nil
	}
	return w.syncLocked(w.size)
}

// syncLocked returns once the file is durable up to byte end. It is a
// group commit: one fsync at a time runs, outside the lock, and covers
// every record written before it started, so many hosts' checkpoints
// share one flush instead of queueing one fsync each. w.mu is held.
func (w *Writer) syncLocked(end int64) error {
	for w.synced < end {
		if w.err != nil {
			return w.err
		}
		if w.syncing {
			w.flushed.Wait()
			continue
		}
		w.syncing = true
		target, f := w.size, w.f
		w.mu.Unlock()
		err := w.fsync(f)
		w.mu.Lock()
		w.syncing = false
		if err != nil {
			w.failLocked(err)
		} else if target > w.synced {
			w.synced = target
		}
		w.flushed.Broadcast()
	}
	return w.err
}

// failLocked makes err the Writer's sticky error. w.mu is held.
func (w *Writer) failLocked(err error) error {
	if w.err == nil {
		w.err = fmt.Errorf("journal %s: %w (the journal is incomplete from here)", w.path, err)
	}
	return w.err
}

// Err is the first write error, if any: the journal is incomplete.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Results calls fn with the final result of each of hosts that has one
// in the journal, in the order given, reading one result at a time from
// the file (at most one result is held in memory).
func (w *Writer) Results(hosts []string, fn func(report.HostResult) error) error {
	w.mu.Lock()
	idx := w.results.clone()
	w.mu.Unlock()
	return idx.each(w.path, hosts, fn)
}

// Close releases the run's lock and closes the file. It is safe to call
// twice.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var err error
	if w.f != nil {
		err = w.f.Close()
		w.f = nil
	}
	if lerr := w.lock.Unlock(); err == nil {
		err = lerr
	}
	return err
}

// syncDir makes a new directory entry durable (a no-op where directories
// cannot be synced).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// span is where one record sits in the file.
type span struct {
	off int64
	n   int
}

// resultIndex maps a host to its last result record. Concurrency: a
// Writer replaces entries under its lock; readers take a copy.
type resultIndex map[string]span

func (ri resultIndex) add(host string, s span) { ri[host] = s }

func (ri resultIndex) clone() resultIndex {
	c := make(resultIndex, len(ri))
	for k, v := range ri {
		c[k] = v
	}
	return c
}

func (ri resultIndex) each(path string, hosts []string, fn func(report.HostResult) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	var buf []byte
	for _, h := range hosts {
		s, ok := ri[h]
		if !ok {
			continue
		}
		if cap(buf) < s.n {
			buf = make([]byte, s.n)
		}
		buf = buf[:s.n]
		if _, err := f.ReadAt(buf, s.off); err != nil && !(errors.Is(err, io.EOF)) {
			return fmt.Errorf("journal %s: read result of %s: %w", path, h, err)
		}
		var rec record
		if err := json.Unmarshal(buf, &rec); err != nil || rec.Result == nil {
			return fmt.Errorf("journal %s: result of %s at byte %d is corrupt: %v", path, h, s.off, err)
		}
		if err := fn(*rec.Result); err != nil {
			return err
		}
	}
	return nil
}
