package fleet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// session is what a shell knows about the SSH session it runs in.
// Concurrency: bgCtx and drop are set once; dropped is atomic.
type session struct {
	// bgCtx is the boot's context: background jobs (`&`) live until the host
	// powers off, not just until the SSH connection ends.
	bgCtx context.Context
	// drop closes the TCP connection (the DropDuringInstall fault).
	drop    func()
	dropped atomic.Bool
	// detached: a detached job's session (patchrun-job start), which
	// outlives the connection that started it.
	detached bool
}

func (s *session) dropConn() {
	if s.dropped.CompareAndSwap(false, true) && s.drop != nil {
		s.drop()
	}
}

type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// shell interprets one command line. It belongs to one goroutine; a
// background job or $(…) runs in a clone.
type shell struct {
	h      *SimHost
	sess   *session
	vars   map[string]string
	pos    []string // $0, $1, …
	status int
	exited bool
	depth  int // sh -c nesting, bounded
}

const maxShellDepth = 16

func (h *SimHost) newShell(sess *session, env map[string]string) *shell {
	user := h.f.cfg.User
	home := "/root"
	if user != "root" {
		home = "/home/" + user
	}
	vars := map[string]string{
		"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME": home, "USER": user, "LOGNAME": user, "SHELL": "/bin/sh", "PWD": home,
	}
	for k, v := range env {
		vars[k] = v
	}
	return &shell{h: h, sess: sess, vars: vars, pos: []string{"sh"}}
}

func (sh *shell) clone() *shell {
	vars := make(map[string]string, len(sh.vars))
	for k, v := range sh.vars {
		vars[k] = v
	}
	return &shell{h: sh.h, sess: sh.sess, vars: vars, pos: sh.pos, status: sh.status, depth: sh.depth}
}

// runLine parses and runs a command line, returning its exit status.
func (sh *shell) runLine(ctx context.Context, line string, std stdio) int {
	s, err := parse(line)
	if err != nil {
		fmt.Fprintf(std.err, "sh: 1: %v\n", err)
		sh.status = 2
		return 2
	}
	return sh.runScript(ctx, s, std)
}

func (sh *shell) runScript(ctx context.Context, s script, std stdio) int {
	for _, it := range s {
		if sh.exited || ctx.Err() != nil || sh.sess.dropped.Load() {
			break
		}
		if it.background {
			child, ao := sh.clone(), it.ao
			// A job's unredirected output would keep the session open on a
			// real sshd; the simulation discards it instead.
			bgio := stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard}
			bgCtx := sh.sess.bgCtx
			sh.h.f.goTracked(func() { child.runAndOr(bgCtx, ao, bgio) })
			sh.status = 0
			continue
		}
		sh.status = sh.runAndOr(ctx, it.ao, std)
	}
	return sh.status
}

func (sh *shell) runAndOr(ctx context.Context, ao andOr, std stdio) int {
	code := sh.runPipeline(ctx, ao.pipes[0], std)
	for i, op := range ao.ops {
		if sh.exited || ctx.Err() != nil {
			break
		}
		if (op == "&&") == (code == 0) {
			code = sh.runPipeline(ctx, ao.pipes[i+1], std)
		}
	}
	sh.status = code
	return code
}

func (sh *shell) runPipeline(ctx context.Context, pl pipeline, std stdio) int {
	in := std.in
	code := 0
	for i, c := range pl.cmds {
		cio := std
		cio.in = in
		var buf *bytes.Buffer
		if i < len(pl.cmds)-1 {
			buf = &bytes.Buffer{}
			cio.out = buf
		}
		code = sh.runSimple(ctx, c, cio)
		if buf != nil {
			in = buf
		}
	}
	return code
}

func (sh *shell) runSimple(ctx context.Context, c simpleCmd, std stdio) int {
	args := make([]string, 0, len(c.args))
	for _, w := range c.args {
		args = append(args, sh.expand(ctx, w, std))
	}
	assigns := make(map[string]string, len(c.assigns))
	for _, a := range c.assigns {
		assigns[a.name] = sh.expand(ctx, a.value, std)
	}
	cio, commit, err := sh.redirect(ctx, c.redirs, std)
	if err != nil {
		fmt.Fprintf(std.err, "sh: 1: %v\n", err)
		return 2
	}
	defer commit()
	if len(args) == 0 { // bare assignments set shell variables
		for k, v := range assigns {
			sh.vars[k] = v
		}
		return 0
	}
	env := make(map[string]string, len(sh.vars)+len(assigns))
	for k, v := range sh.vars {
		env[k] = v
	}
	for k, v := range assigns {
		env[k] = v
	}
	return sh.exec(ctx, args, env, cio)
}

// exec runs argv as a builtin or a program of the host.
func (sh *shell) exec(ctx context.Context, args []string, env map[string]string, std stdio) int {
	p := &proc{sh: sh, h: sh.h, args: args, env: env, io: std}
	if b := builtinFor(args[0]); b != nil {
		return b(ctx, p)
	}
	prog := sh.h.lookupProgram(args[0])
	if prog == nil {
		fmt.Fprintf(std.err, "sh: 1: %s: not found\n", args[0])
		return 127
	}
	return prog(ctx, p)
}

// lookupProgram resolves a command name (or absolute path) to a program
// installed on this host.
func (h *SimHost) lookupProgram(name string) program {
	base := name
	if strings.Contains(name, "/") {
		base = path.Base(name)
		if !strings.HasSuffix(h.programPath(base), "/"+base) || !programDirOK(path.Dir(name)) {
			return nil
		}
	}
	if !h.hasProgram(base) {
		return nil
	}
	return programFor(base)
}

func programDirOK(dir string) bool {
	switch dir {
	case "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin":
		return true
	}
	return false
}

func (h *SimHost) hasProgram(name string) bool {
	if h.prof.noSystemd && (name == "systemctl" || name == "systemd-run") {
		return false
	}
	return programFor(name) != nil && (containsStr(commonPrograms, name) || containsStr(h.prof.programs, name))
}

// programPath is what `command -v` prints.
func (h *SimHost) programPath(name string) string {
	switch name {
	case "reboot", "shutdown":
		return "/usr/sbin/" + name
	}
	return "/usr/bin/" + name
}

// expand turns a word into its value (no field splitting, no globbing).
func (sh *shell) expand(ctx context.Context, w word, std stdio) string {
	if len(w) == 1 && w[0].kind == partLit {
		return w[0].text
	}
	var b strings.Builder
	for _, p := range w {
		switch p.kind {
		case partLit:
			b.WriteString(p.text)
		case partParam:
			b.WriteString(sh.param(p.text))
		case partSubst:
			b.WriteString(sh.substitute(ctx, p.text, std))
		}
	}
	return b.String()
}

func (sh *shell) param(name string) string {
	switch name {
	case "?":
		return strconv.Itoa(sh.status)
	case "$":
		return "4242"
	case "#":
		return strconv.Itoa(len(sh.pos) - 1)
	case "@", "*":
		return strings.Join(sh.pos[1:], " ")
	}
	if n, err := strconv.Atoi(name); err == nil {
		if n < len(sh.pos) {
			return sh.pos[n]
		}
		return ""
	}
	return sh.vars[name]
}

// substitute runs $(…) and returns its output without trailing newlines.
func (sh *shell) substitute(ctx context.Context, src string, std stdio) string {
	if sh.depth >= maxShellDepth {
		return ""
	}
	child := sh.clone()
	child.depth++
	var out bytes.Buffer
	sh.status = child.runLine(ctx, src, stdio{in: strings.NewReader(""), out: &out, err: std.err})
	return strings.TrimRight(out.String(), "\n")
}

// redirect applies a command's redirections to std. commit writes captured
// file output to the virtual filesystem once the command is done.
func (sh *shell) redirect(ctx context.Context, rs []redir, std stdio) (stdio, func(), error) {
	fds := map[int]any{0: std.in, 1: std.out, 2: std.err}
	var files []*vfsWriter
	commit := func() {
		for _, f := range files {
			f.commit()
		}
	}
	for _, r := range rs {
		if r.op == "dup" {
			src, ok := fds[r.dupFd]
			if !ok {
				return std, commit, fmt.Errorf("%d: Bad file descriptor", r.dupFd)
			}
			fds[r.fd] = src
			continue
		}
		target := sh.expand(ctx, r.target, std)
		switch r.op {
		case "<":
			sh.h.mu.Lock()
			data, ok := sh.h.readFileLocked(target)
			sh.h.mu.Unlock()
			if !ok {
				return std, commit, fmt.Errorf("cannot open %s: No such file", target)
			}
			fds[r.fd] = strings.NewReader(data)
		case ">", ">>":
			var w io.Writer = io.Discard
			if cleanPath(target) != "/dev/null" {
				vw := &vfsWriter{h: sh.h, path: target}
				sh.h.mu.Lock()
				err := sh.h.writeFileLocked(target, "", r.op == ">>")
				sh.h.mu.Unlock()
				if err != nil {
					return std, commit, err
				}
				files = append(files, vw)
				w = vw
			}
			if r.fd == -1 {
				fds[1], fds[2] = w, w
			} else {
				fds[r.fd] = w
			}
		}
	}
	out := stdio{}
	out.in, _ = fds[0].(io.Reader)
	out.out, _ = fds[1].(io.Writer)
	out.err, _ = fds[2].(io.Writer)
	if out.in == nil { // a write-only descriptor duplicated onto stdin
		out.in = strings.NewReader("")
	}
	if out.out == nil {
		out.out = io.Discard
	}
	if out.err == nil {
		out.err = io.Discard
	}
	return out, commit, nil
}

// vfsWriter collects a redirection's output and appends it to a virtual file.
type vfsWriter struct {
	h    *SimHost
	path string
	buf  bytes.Buffer
}

func (w *vfsWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *vfsWriter) commit() {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	_ = w.h.writeFileLocked(w.path, w.buf.String(), true)
}

// proc is one running builtin or program.
type proc struct {
	sh   *shell
	h    *SimHost
	args []string
	env  map[string]string
	io   stdio
}

type program func(ctx context.Context, p *proc) int

func (p *proc) outf(format string, args ...any) { fmt.Fprintf(p.io.out, format, args...) }
func (p *proc) errf(format string, args ...any) { fmt.Fprintf(p.io.err, format, args...) }

// run runs argv (sudo, nohup, env, timeout pass their command on).
func (p *proc) run(ctx context.Context, argv []string, env map[string]string) int {
	if len(argv) == 0 {
		return 0
	}
	return p.sh.exec(ctx, argv, env, p.io)
}

// hasFlag reports whether any argument equals one of names or contains it
// as an -o value (for apt's -o Dpkg::Options::=--force-confold).
func hasArg(args []string, names ...string) bool {
	for _, a := range args {
		for _, n := range names {
			if a == n || strings.HasSuffix(a, "="+n) {
				return true
			}
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
