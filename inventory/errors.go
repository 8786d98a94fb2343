package inventory

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/patchrun/patchrun/internal/termtext"
)

// Error is one problem found in an inventory file. It names the file, the
// line and the key so a user can jump straight to it, and carries a hint of
// how to fix it. Load joins several with errors.Join; use errors.As for the
// first or Errors for all of them. Immutable once returned.
type Error struct {
	File string // path as given to Load
	Line int    // 1-based; 0 when the problem is not tied to a line
	Key  string // key path such as "hosts[3].port"; "" when not tied to a key
	Msg  string
	Hint string
}

// Error renders `inventory.yaml:12: hosts[3].pasword: unknown key (hint: did you mean "password_env"?)`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		// Keys are written as found in the file; a control character in
		// one must not reach the terminal.
		b.WriteString(termtext.Line(e.Key))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		fmt.Fprintf(&b, " (hint: %s)", e.Hint)
	}
	return b.String()
}

// Errors returns every *Error inside err (which may be a join of several),
// in the order they were found.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok {
			out = append(out, e)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		walk(errors.Unwrap(err))
	}
	walk(err)
	return out
}

// problems collects errors (or warnings) for one file, dropping exact
// repeats: a bad value in defaults would otherwise be reported once per host.
// Not safe for concurrent use; owned by one Load call.
type problems struct {
	file string
	list []*Error
	seen map[Error]bool
}

func newProblems(file string) *problems {
	return &problems{file: file, seen: map[Error]bool{}}
}

func (p *problems) add(line int, key, msg, hint string) {
	e := Error{File: p.file, Line: line, Key: key, Msg: msg, Hint: hint}
	if p.seen[e] {
		return
	}
	p.seen[e] = true
	p.list = append(p.list, &e)
}

func (p *problems) empty() bool { return len(p.list) == 0 }

// err joins everything collected, or returns nil.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	// Report in file order, however the checks were ordered.
	sort.SliceStable(p.list, func(i, j int) bool { return p.list[i].Line < p.list[j].Line })
	if len(p.list) == 1 {
		return p.list[0]
	}
	errs := make([]error, len(p.list))
	for i, e := range p.list {
		errs[i] = e
	}
	return errors.Join(errs...)
}
