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
}

func newFake(t *testing.T) *fakeTransport {
	return &fakeTransport{t: t, script: map[string][]step{}, used: map[string]int{}, prefix: map[string]step{}}
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
