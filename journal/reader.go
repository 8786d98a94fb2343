package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/runner"
	"github.com/patchrun/patchrun/state"
)

// Run is a journal read back: its header, each segment's start and end,
// every host's last checkpoint (while it has no result) and where its
// result is. Results are not held: Results streams them from the file.
type Run struct {
	ID     string
	Dir    string // runs/<run-id>
	Path   string // the journal file
	Header Header
	// Resumes are the "resumed" records, oldest first: each starts a
	// segment written by another process.
	Resumes []Resumed
	// End is the last segment's end record; nil when that segment has
	// none (its process is still running, or died).
	End *End
	// State: running (a live process holds the run's lock), finished or
	// interrupted (an end record says so, or the writer died).
	State State
	// Torn: the last line was cut short (the writer was killed mid-write)
	// and was ignored.
	Torn bool

	checkpoints map[string]*runner.Checkpoint // hosts with no result yet
	last        map[string]*runner.Checkpoint // every host's last checkpoint
	statuses    map[string]report.Status      // hosts with a result
	results     resultIndex
	size        int64 // bytes up to the end of the last whole line
}

// ErrNoRun is returned by Open for a run id with no journal, and by Latest
// when no run matches.
var ErrNoRun = errors.New("no such run")

// Open reads run runID's journal from stateDir. It reads the file once,
// line by line; memory is bounded by the number of hosts, not by the
// number of records.
func Open(stateDir, runID string) (*Run, error) {
	if !state.ValidRunID(runID) {
		return nil, fmt.Errorf("run %q: %w (a run id looks like 20261205T021500Z-3f9c; see patchrun runs)", runID, ErrNoRun)
	}
	dir := state.RunDir(stateDir, runID)
	r, err := open(dir, runID)
	if err != nil {
		return nil, err
	}
	if state.IsLocked(filepath.Join(dir, LockName)) {
		r.State = StateRunning
	}
	return r, nil
}

// Latest opens the newest run (by run id, i.e. start time) for which
// match returns true (nil matches any). Runs whose journal is unreadable
// are passed over.
func Latest(stateDir string, match func(*Run) bool) (*Run, error) {
	ids, err := IDs(stateDir)
	if err != nil {
		return nil, err
	}
	for i := len(ids) - 1; i >= 0; i-- {
		r, err := Open(stateDir, ids[i])
		if err != nil {
			continue
		}
		if match == nil || match(r) {
			return r, nil
		}
	}
	return nil, ErrNoRun
}

// IDs lists the run ids in stateDir, oldest first. A missing runs
// directory is no runs.
func IDs(stateDir string) ([]string, error) {
	ents, err := os.ReadDir(state.RunsDir(stateDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && state.ValidRunID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// CorruptError says which line of a journal cannot be read.
type CorruptError struct {
	Path string
	Line int
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("journal %s: line %d is corrupt: %v (only a torn last line is expected after a crash; the file was changed or damaged)", e.Path, e.Line, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// lineRecord is a line decoded only as far as the reader needs: results
// keep just their host and status.
type lineRecord struct {
	Type       string             `json:"type"`
	Header     *Header            `json:"header"`
	Checkpoint *runner.Checkpoint `json:"checkpoint"`
	Result     *struct {
		Name   string        `json:"name"`
		Status report.Status `json:"status"`
	} `json:"result"`
	End     *End     `json:"end"`
	Resumed *Resumed `json:"resumed"`
}

func open(dir, runID string) (*Run, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("run %s: %w (see patchrun runs)", runID, ErrNoRun)
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	r := &Run{ID: runID, Dir: dir, Path: path, State: StateInterrupted,
		checkpoints: map[string]*runner.Checkpoint{}, last: map[string]*runner.Checkpoint{}, statuses: map[string]report.Status{}, results: resultIndex{}}
	br := bufio.NewReaderSize(f, 64<<10)
	var off int64
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] != '\n' {
			// A last line with no newline: the write was cut short.
			r.Torn = true
			break
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
		if err := r.apply(line, span{off: off, n: len(line)}, n); err != nil {
			return nil, &CorruptError{Path: path, Line: n, Err: err}
		}
		off += int64(len(line))
	}
	r.size = off
	if r.Header.RunID == "" {
		if r.Torn {
			return nil, &CorruptError{Path: path, Line: 1, Err: errors.New("the header was cut short")}
		}
		return nil, &CorruptError{Path: path, Line: 1, Err: errors.New("no header")}
	}
	if r.End != nil {
		r.State = r.End.State
	}
	return r, nil
}

// apply folds one line into r.
func (r *Run) apply(line []byte, s span, n int) error {
	var rec lineRecord
	if err := json.Unmarshal(bytes.TrimSpace(line), &rec); err != nil {
		return err
	}
	if n == 1 && rec.Type != TypeHeader {
		return fmt.Errorf("first record is %q, want a header", rec.Type)
	}
	switch rec.Type {
	case TypeHeader:
		if n != 1 || rec.Header == nil {
			return errors.New("a header that is not the first record")
		}
		if rec.Header.Format > FormatVersion {
			return fmt.Errorf("format %d is newer than this patchrun reads (%d): upgrade patchrun", rec.Header.Format, FormatVersion)
		}
		r.Header = *rec.Header
	case TypeEvent:
	case TypeCheckpoint:
		if rec.Checkpoint == nil || rec.Checkpoint.Host == "" {
			return errors.New("checkpoint without a host")
		}
		r.checkpoints[rec.Checkpoint.Host] = rec.Checkpoint
		r.last[rec.Checkpoint.Host] = rec.Checkpoint
	case TypeResult:
		if rec.Result == nil || rec.Result.Name == "" {
			return errors.New("result without a host name")
		}
		delete(r.checkpoints, rec.Result.Name)
		r.statuses[rec.Result.Name] = rec.Result.Status
		r.results.add(rec.Result.Name, s)
	case TypeEnd:
		if rec.End == nil {
			return errors.New("end record without its outcome")
		}
		r.End = rec.End
	case TypeResumed:
		if rec.Resumed == nil {
			return errors.New("resumed record without its details")
		}
		r.Resumes = append(r.Resumes, *rec.Resumed)
		r.End = nil // a new segment: not ended until it says so
	default:
		// A record type from a newer patchrun: skipped, as unknown
		// fields are.
	}
	return nil
}

// Checkpoint is host's last checkpoint, if it has one and no result yet
// (a host that ended needs none).
func (r *Run) Checkpoint(host string) (runner.Checkpoint, bool) {
	c, ok := r.checkpoints[host]
	if !ok {
		return runner.Checkpoint{}, false
	}
	return *c, true
}

// LastCheckpoint is host's last checkpoint even if it has a result since:
// a resume continues a host that ended only because its run was
// interrupted from where it stopped.
func (r *Run) LastCheckpoint(host string) (runner.Checkpoint, bool) {
	c, ok := r.last[host]
	if !ok {
		return runner.Checkpoint{}, false
	}
	return *c, true
}

// Ended reports whether host has a final result, and its status.
func (r *Run) Ended(host string) (report.Status, bool) {
	s, ok := r.statuses[host]
	return s, ok
}

// Counts counts the hosts with a result by status (Hosts is the header's
// host count; hosts without a result are counted nowhere else).
func (r *Run) Counts() report.Summary {
	s := report.Summary{Hosts: len(r.Header.Hosts)}
	for _, st := range r.statuses {
		switch st {
		case report.StatusOK:
			s.OK++
		case report.StatusFailed:
			s.Failed++
		case report.StatusUnreachable:
			s.Unreachable++
		case report.StatusSkipped:
			s.Skipped++
		}
	}
	return s
}

// Results calls fn with the final result of each of hosts that has one, in
// the order given, reading one at a time from the file.
func (r *Run) Results(hosts []string, fn func(report.HostResult) error) error {
	return r.results.each(r.Path, hosts, fn)
}

// Events calls fn with the payload of every event record, in the order
// written (every segment's), reading the file once. A torn last line is
// not read.
func (r *Run) Events(fn func(event json.RawMessage) error) error {
	f, err := os.Open(r.Path)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(io.LimitReader(f, r.size), 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			var rec struct {
				Type  string          `json:"type"`
				Event json.RawMessage `json:"event"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Type == TypeEvent && len(rec.Event) > 0 {
				if err := fn(rec.Event); err != nil {
					return err
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("journal %s: %w", r.Path, err)
		}
	}
}
