package unix

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/transport"
)

// step is one scripted answer: a completed command or a transport error.
type step struct {
	res transport.Result
	err error
}

// fakeTransport answers exact command lines from a script; each line has a
// list of answers given in order, the last one repeating (answers added
// later continue the sequence). Lines not in the script fail
// the test. Used by one test goroutine only.
type fakeTransport struct {
	t      *testing.T
	script map[string][]step
	used   map[string]int  // answers consumed per line
	prefix map[string]step // answers for lines starting with a key (reboot unit names)
	sent   []string
	// jobs holds, per detached job started and not yet cleaned, the answer
	// scripted for its command line: an unscripted job-script line
	// (CmdJob) is answered as the host would, so tests script the package
	// manager's lines and the detached wrapper stays transparent.
	jobs map[string]step
}

func newFake(t *testing.T) *fakeTransport {
	f := &fakeTransport{t: t, script: map[string][]step{}, used: map[string]int{}, prefix: map[string]step{}, jobs: map[string]step{}}
	// A consistent host: the install preflight finds nothing to repair.
	f.prefix[CmdDpkgAudit] = ok("")
	for _, files := range staleLockFiles {
		f.prefix[CmdStaleLock(files[0])] = ok("")
	}
	return f
}

func (f *fakeTransport) on(line string, steps ...step) *fakeTransport {
	f.script[line] = append(f.script[line], steps...)
	return f
}

func (f *fakeTransport) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	f.sent = append(f.sent, cmd.Line)
	if q := f.script[cmd.Line]; len(q) > 0 {
		i := min(f.used[cmd.Line], len(q)-1)
		f.used[cmd.Line]++
		return q[i].res, q[i].err
	}
	if res, err, ok := f.job(cmd.Line); ok {
		return res, err
	}
	for p, s := range f.prefix {
		if strings.HasPrefix(cmd.Line, p) {
			return s.res, s.err
		}
	}
	f.t.Errorf("unexpected command line: %q", cmd.Line)
	return transport.Result{}, errors.New("fake: unscripted command")
}

func (f *fakeTransport) Upload(context.Context, string, io.Reader, int64) error {
	return errors.New("fake: no upload")
}
func (f *fakeTransport) Close() error { return nil }

// count is how often line was sent.
func (f *fakeTransport) count(line string) int {
	n := 0
	for _, s := range f.sent {
		if s == line {
			n++
		}
	}
	return n
}

func ok(stdout string) step { return step{res: transport.Result{Stdout: []byte(stdout)}} }
func exit(code int, stdout, stderr string) step {
	return step{res: transport.Result{ExitCode: code, Stdout: []byte(stdout), Stderr: []byte(stderr)}}
}
func fail(err error) step { return step{err: err} }

// captured loads testdata/<name>.stdout/.stderr/.exit, a real tool run.
func captured(t *testing.T, name string) step {
	t.Helper()
	read := func(ext string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name+ext))
		if err != nil {
			t.Fatalf("capture %s: %v", name, err)
		}
		return b
	}
	code, err := strconv.Atoi(strings.TrimSpace(string(read(".exit"))))
	if err != nil {
		t.Fatalf("capture %s exit: %v", name, err)
	}
	return step{res: transport.Result{ExitCode: code, Stdout: read(".stdout"), Stderr: read(".stderr")}}
}

// capturedFile loads a single captured stdout file (apt captures).
func capturedFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("capture %s: %v", name, err)
	}
	return string(b)
}

// sections renders probe output the way the remote shell prints it.
func sections(pairs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		b.WriteString(markerPrefix + pairs[i] + markerSuffix + "\n")
		if pairs[i+1] != "" {
			b.WriteString(pairs[i+1] + "\n")
		}
	}
	b.WriteString(markerPrefix + SectionEnd + markerSuffix + "\n")
	return b.String()
}

// job answers a job-script line the way job.sh does, running the scripted
// answer of the job's command line.
func (f *fakeTransport) job(line string) (transport.Result, error, bool) {
	sudo := strings.HasPrefix(line, SudoPrefix)
	w := shellWords(strings.TrimPrefix(line, SudoPrefix))
	if len(w) < 7 || strings.Join(w[:4], " ") != "sh -s -- "+JobTag {
		return transport.Result{}, nil, false
	}
	verb, job := w[4], w[6]
	answer := func(s string) transport.Result { return transport.Result{Stdout: []byte(JobMarker + " " + s + "\n")} }
	switch verb {
	case "start":
		inner := w[7]
		if sudo {
			inner = SudoPrefix + inner
		}
		q := f.script[inner]
		if len(q) == 0 {
			f.t.Errorf("unexpected job command line: %q", inner)
			return transport.Result{}, errors.New("fake: unscripted command"), true
		}
		i := min(f.used[inner], len(q)-1)
		f.used[inner]++
		f.sent = append(f.sent, inner)
		if q[i].err != nil {
			return transport.Result{}, q[i].err, true
		}
		f.jobs[job] = q[i]
		return answer(JobStarted + " nohup"), nil, true
	case "wait":
		s, ok := f.jobs[job]
		if !ok {
			return answer(JobNone), nil, true
		}
		r := s.res
		r.Stdout = append([]byte(JobMarker+" "+JobDone+" "+strconv.Itoa(s.res.ExitCode)+"\n"), s.res.Stdout...)
		r.ExitCode = 0
		return r, nil, true
	case "clean":
		delete(f.jobs, job)
		return answer(JobCleaned), nil, true
	}
	return transport.Result{}, nil, false
}

// shellWords splits a line into words, honouring single quotes (as shQuote
// writes them).
func shellWords(s string) []string {
	var out []string
	var cur strings.Builder
	in, have := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			in, have = !in, true
		case c == '\\' && !in && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			have = true
		case c == ' ' && !in:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}
