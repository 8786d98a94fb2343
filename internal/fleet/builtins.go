package fleet

import (
	"context"
	"strconv"
	"strings"
)

// builtinFor returns the shell builtin called name, or nil.
func builtinFor(name string) program {
	switch name {
	case "echo":
		return builtinEcho
	case "printf":
		return builtinPrintf
	case "true", ":":
		return func(context.Context, *proc) int { return 0 }
	case "false":
		return func(context.Context, *proc) int { return 1 }
	case "test", "[":
		return builtinTest
	case "command":
		return builtinCommand
	case "exit":
		return builtinExit
	case "export":
		return builtinExport
	case "cd":
		return builtinCd
	case "set", "umask", "trap", "ulimit":
		return func(context.Context, *proc) int { return 0 }
	}
	return nil
}

// builtinEcho behaves like dash's echo: -n, and backslash escapes.
func builtinEcho(_ context.Context, p *proc) int {
	args := p.args[1:]
	nl := true
	if len(args) > 0 && args[0] == "-n" {
		nl, args = false, args[1:]
	}
	s, stop := unescape(strings.Join(args, " "))
	if nl && !stop {
		s += "\n"
	}
	p.outf("%s", s)
	return 0
}

// unescape expands echo/printf escapes; stop is true after \c.
func unescape(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\':
			b.WriteByte('\\')
		case 'c':
			return b.String(), true
		case 'a':
			b.WriteByte('\a')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			// \NNN: up to three octal digits ('\033' is ESC).
			v := 0
			for n := 0; n < 3 && i < len(s) && s[i] >= '0' && s[i] <= '7'; n++ {
				v = v*8 + int(s[i]-'0')
				i++
			}
			i--
			b.WriteByte(byte(v))
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String(), false
}

// builtinPrintf supports %s, %d, %b and %%, reusing the format for extra
// arguments as POSIX printf does.
func builtinPrintf(_ context.Context, p *proc) int {
	if len(p.args) < 2 {
		p.errf("printf: usage: printf format [arg ...]\n")
		return 2
	}
	format, args := p.args[1], p.args[2:]
	for {
		used := 0
		var b strings.Builder
		for i := 0; i < len(format); i++ {
			c := format[i]
			if c != '%' || i+1 == len(format) {
				b.WriteByte(c)
				continue
			}
			i++
			arg := ""
			if format[i] != '%' && used < len(args) {
				arg = args[used]
				used++
			}
			switch format[i] {
			case '%':
				b.WriteByte('%')
			case 'd':
				n, _ := strconv.Atoi(arg)
				b.WriteString(strconv.Itoa(n))
			default: // %s, %b and anything else print the argument
				b.WriteString(arg)
			}
		}
		out, _ := unescape(b.String())
		p.outf("%s", out)
		args = args[used:]
		if used == 0 || len(args) == 0 {
			return 0
		}
	}
}

func builtinTest(_ context.Context, p *proc) int {
	args := p.args[1:]
	if p.args[0] == "[" {
		if len(args) == 0 || args[len(args)-1] != "]" {
			p.errf("sh: 1: [: missing ]\n")
			return 2
		}
		args = args[:len(args)-1]
	}
	p.h.mu.Lock()
	ok, err := p.h.evalTestLocked(args)
	p.h.mu.Unlock()
	if err != "" {
		p.errf("sh: 1: %s: %s\n", p.args[0], err)
		return 2
	}
	if ok {
		return 0
	}
	return 1
}

// evalTestLocked evaluates test(1) expressions: !, -a/-o, unary file and
// string tests, binary string and integer comparisons.
func (h *SimHost) evalTestLocked(args []string) (bool, string) {
	for i, a := range args { // lowest precedence first
		if a == "-o" && i > 0 {
			l, e1 := h.evalTestLocked(args[:i])
			r, e2 := h.evalTestLocked(args[i+1:])
			return l || r, e1 + e2
		}
	}
	for i, a := range args {
		if a == "-a" && i > 0 {
			l, e1 := h.evalTestLocked(args[:i])
			r, e2 := h.evalTestLocked(args[i+1:])
			return l && r, e1 + e2
		}
	}
	switch len(args) {
	case 0:
		return false, ""
	case 1:
		return args[0] != "", ""
	case 2:
		if args[0] == "!" {
			ok, err := h.evalTestLocked(args[1:])
			return !ok, err
		}
		return h.unaryTestLocked(args[0], args[1])
	case 3:
		if args[0] == "!" {
			ok, err := h.evalTestLocked(args[1:])
			return !ok, err
		}
		return binaryTest(args[0], args[1], args[2])
	}
	if args[0] == "!" {
		ok, err := h.evalTestLocked(args[1:])
		return !ok, err
	}
	return false, "too many arguments"
}

func (h *SimHost) unaryTestLocked(op, arg string) (bool, string) {
	switch op {
	case "-n":
		return arg != "", ""
	case "-z":
		return arg == "", ""
	case "-e", "-r", "-w", "-x":
		_, isFile := h.readFileLocked(arg)
		return isFile || h.isDirLocked(arg), ""
	case "-f":
		_, isFile := h.readFileLocked(arg)
		return isFile && !h.isDirLocked(arg), ""
	case "-d":
		return h.isDirLocked(arg), ""
	case "-s":
		data, isFile := h.readFileLocked(arg)
		return isFile && data != "", ""
	case "-L", "-h":
		return false, ""
	}
	return false, op + ": unexpected operator"
}

func binaryTest(l, op, r string) (bool, string) {
	switch op {
	case "=", "==":
		return l == r, ""
	case "!=":
		return l != r, ""
	}
	a, errA := strconv.Atoi(l)
	b, errB := strconv.Atoi(r)
	if errA != nil || errB != nil {
		if strings.HasPrefix(op, "-") {
			return false, "Illegal number: " + l
		}
		return false, op + ": unexpected operator"
	}
	switch op {
	case "-eq":
		return a == b, ""
	case "-ne":
		return a != b, ""
	case "-lt":
		return a < b, ""
	case "-le":
		return a <= b, ""
	case "-gt":
		return a > b, ""
	case "-ge":
		return a >= b, ""
	}
	return false, op + ": unexpected operator"
}

// builtinCommand implements `command -v name…` (prints what it finds; exit 1
// if any name is missing) and `command name args` (runs it).
func builtinCommand(ctx context.Context, p *proc) int {
	args := p.args[1:]
	if len(args) == 0 {
		return 0
	}
	if args[0] != "-v" && args[0] != "-V" {
		return p.run(ctx, args, p.env)
	}
	code := 0
	for _, name := range args[1:] {
		switch {
		case builtinFor(name) != nil:
			p.outf("%s\n", name)
		case p.h.lookupProgram(name) != nil:
			if strings.Contains(name, "/") {
				p.outf("%s\n", name)
			} else {
				p.outf("%s\n", p.h.programPath(name))
			}
		default:
			code = 1
		}
	}
	return code
}

func builtinExit(_ context.Context, p *proc) int {
	code := p.sh.status
	if len(p.args) > 1 {
		n, err := strconv.Atoi(p.args[1])
		if err != nil {
			p.errf("sh: 1: exit: Illegal number: %s\n", p.args[1])
			n = 2
		}
		code = n & 0xff
	}
	p.sh.exited = true
	return code
}

func builtinExport(_ context.Context, p *proc) int {
	for _, a := range p.args[1:] {
		if k, v, ok := strings.Cut(a, "="); ok && validName(k) {
			p.sh.vars[k] = v
		}
	}
	return 0
}

func builtinCd(_ context.Context, p *proc) int {
	dir := p.sh.vars["HOME"]
	if len(p.args) > 1 {
		dir = p.args[1]
	}
	p.h.mu.Lock()
	ok := p.h.isDirLocked(dir)
	p.h.mu.Unlock()
	if !ok {
		p.errf("sh: 1: cd: can't cd to %s\n", dir)
		return 2
	}
	p.sh.vars["PWD"] = cleanPath(dir)
	return 0
}
