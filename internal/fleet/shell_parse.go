package fleet

import (
	"fmt"
	"strings"
)

// The mini-shell understands the POSIX sh subset patchrun's backends and
// users' ad-hoc commands use: simple commands, `;` and newlines, `&&`, `||`,
// `|`, a trailing `&`, leading VAR=value assignments, redirections (`>f`,
// `>>f`, `<f`, `N>f`, `N>&M`, `&>f`), single and double quotes, backslash
// escapes, `$VAR`, `${VAR}`, `$?`, `$$`, positional `$0…$9` and `$(…)`.
// Not supported (a syntax error, exit 2, as dash would report): subshells,
// `if`/`for`/`while`, backquotes. Expansions never split into several words
// and there is no globbing.

type partKind int

const (
	partLit   partKind = iota // literal text
	partParam                 // $NAME: text is the name
	partSubst                 // $(…): text is the inner script
)

type wordPart struct {
	kind   partKind
	text   string
	quoted bool
}

type word []wordPart

type redir struct {
	fd     int    // the descriptor redirected: 0, 1, 2; -1 means both 1 and 2 (&>)
	op     string // ">", ">>", "<", "dup"
	target word   // file name (not for dup)
	dupFd  int    // for dup: the descriptor copied
}

type assignment struct {
	name  string
	value word
}

type simpleCmd struct {
	assigns []assignment
	args    []word
	redirs  []redir
}

type pipeline struct{ cmds []simpleCmd }

type andOr struct {
	pipes []pipeline
	ops   []string // "&&" or "||" between pipes[i] and pipes[i+1]
}

type listItem struct {
	ao         andOr
	background bool
}

type script []listItem

// syntaxError is reported like dash: "sh: 1: Syntax error: …" exit 2.
type syntaxError struct{ msg string }

func (e *syntaxError) Error() string { return "Syntax error: " + e.msg }

type tokKind int

const (
	tokWord tokKind = iota
	tokOp
	tokRedir
)

type token struct {
	kind  tokKind
	op    string // for tokOp
	word  word   // for tokWord
	redir redir  // for tokRedir (target filled by the parser)
}

// lexer turns a command line into tokens.
type lexer struct {
	src  string
	i    int
	toks []token
	cur  word
	has  bool // cur holds a word (possibly empty: '')
}

func (l *lexer) flush() {
	if l.has {
		l.toks = append(l.toks, token{kind: tokWord, word: l.cur})
	}
	l.cur, l.has = nil, false
}

func (l *lexer) lit(s string, quoted bool) {
	l.has = true
	if n := len(l.cur); n > 0 && l.cur[n-1].kind == partLit && l.cur[n-1].quoted == quoted {
		l.cur[n-1].text += s
		return
	}
	l.cur = append(l.cur, wordPart{kind: partLit, text: s, quoted: quoted})
}

func (l *lexer) peek(off int) byte {
	if l.i+off < len(l.src) {
		return l.src[l.i+off]
	}
	return 0
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			l.flush()
			l.i++
		case c == '\n' || c == ';':
			l.flush()
			if c == ';' && l.peek(1) == ';' {
				return nil, &syntaxError{`";;" unexpected`}
			}
			l.toks = append(l.toks, token{kind: tokOp, op: ";"})
			l.i++
		case c == '&':
			l.flush()
			switch l.peek(1) {
			case '&':
				l.toks = append(l.toks, token{kind: tokOp, op: "&&"})
				l.i += 2
			case '>':
				l.i += 2
				op := ">"
				if l.peek(0) == '>' {
					op = ">>"
					l.i++
				}
				l.toks = append(l.toks, token{kind: tokRedir, redir: redir{fd: -1, op: op}})
			default:
				l.toks = append(l.toks, token{kind: tokOp, op: "&"})
				l.i++
			}
		case c == '|':
			l.flush()
			if l.peek(1) == '|' {
				l.toks = append(l.toks, token{kind: tokOp, op: "||"})
				l.i += 2
			} else {
				l.toks = append(l.toks, token{kind: tokOp, op: "|"})
				l.i++
			}
		case c == '>' || c == '<':
			if err := l.redirection(); err != nil {
				return nil, err
			}
		case c == '#' && !l.has:
			for l.i < len(l.src) && l.src[l.i] != '\n' {
				l.i++
			}
		case c == '\'':
			end := strings.IndexByte(l.src[l.i+1:], '\'')
			if end < 0 {
				return nil, &syntaxError{"Unterminated quoted string"}
			}
			l.lit(l.src[l.i+1:l.i+1+end], true)
			l.i += end + 2
		case c == '"':
			if err := l.doubleQuoted(); err != nil {
				return nil, err
			}
		case c == '\\':
			if l.peek(1) == '\n' {
				l.i += 2
				continue
			}
			if l.i+1 < len(l.src) {
				l.lit(l.src[l.i+1:l.i+2], true)
			}
			l.i += 2
		case c == '$':
			if err := l.dollar(false); err != nil {
				return nil, err
			}
		case c == '(' || c == ')' || c == '`':
			return nil, &syntaxError{fmt.Sprintf("%q unexpected", string(c))}
		default:
			l.lit(string(c), false)
			l.i++
		}
	}
	l.flush()
	return l.toks, nil
}

// redirection lexes >, >>, <, N>, N>&M, >&M at l.i.
func (l *lexer) redirection() error {
	fd := 1
	if l.src[l.i] == '<' {
		fd = 0
	}
	// "2>": a word that is exactly one unquoted digit becomes the descriptor.
	if l.has && len(l.cur) == 1 && l.cur[0].kind == partLit && !l.cur[0].quoted &&
		len(l.cur[0].text) == 1 && l.cur[0].text[0] >= '0' && l.cur[0].text[0] <= '9' {
		fd = int(l.cur[0].text[0] - '0')
		l.cur, l.has = nil, false
	} else {
		l.flush()
	}
	op := string(l.src[l.i])
	l.i++
	if op == ">" && l.peek(0) == '>' {
		op = ">>"
		l.i++
	}
	if l.peek(0) == '&' {
		l.i++
		start := l.i
		for l.i < len(l.src) && l.src[l.i] >= '0' && l.src[l.i] <= '9' {
			l.i++
		}
		if start == l.i {
			if l.peek(0) == '-' { // N>&- closes: treat as /dev/null
				l.i++
				l.toks = append(l.toks, token{kind: tokRedir, redir: redir{fd: fd, op: ">", target: word{{kind: partLit, text: "/dev/null"}}}})
				return nil
			}
			return &syntaxError{"Bad fd number"}
		}
		n := 0
		for _, d := range l.src[start:l.i] {
			n = n*10 + int(d-'0')
		}
		l.toks = append(l.toks, token{kind: tokRedir, redir: redir{fd: fd, op: "dup", dupFd: n}})
		return nil
	}
	l.toks = append(l.toks, token{kind: tokRedir, redir: redir{fd: fd, op: op}})
	return nil
}

func (l *lexer) doubleQuoted() error {
	l.i++ // opening quote
	l.has = true
	for {
		if l.i >= len(l.src) {
			return &syntaxError{"Unterminated quoted string"}
		}
		c := l.src[l.i]
		switch c {
		case '"':
			l.i++
			return nil
		case '\\':
			n := l.peek(1)
			switch n {
			case '$', '`', '"', '\\':
				l.lit(string(n), true)
				l.i += 2
			case '\n':
				l.i += 2
			default:
				l.lit("\\", true)
				l.i++
			}
		case '$':
			if err := l.dollar(true); err != nil {
				return err
			}
		case '`':
			return &syntaxError{`"` + "`" + `" unexpected`}
		default:
			l.lit(string(c), true)
			l.i++
		}
	}
}

// dollar lexes an expansion at l.i (which is '$').
func (l *lexer) dollar(quoted bool) error {
	l.has = true
	n := l.peek(1)
	switch {
	case n == '(':
		depth, j := 0, l.i+1
		var inS, inD bool
		for ; j < len(l.src); j++ {
			ch := l.src[j]
			switch {
			case inS:
				inS = ch != '\''
			case inD:
				if ch == '\\' {
					j++
				} else {
					inD = ch != '"'
				}
			case ch == '\'':
				inS = true
			case ch == '"':
				inD = true
			case ch == '(':
				depth++
			case ch == ')':
				depth--
			}
			if depth == 0 {
				break
			}
		}
		if depth != 0 {
			return &syntaxError{"Unterminated command substitution"}
		}
		l.cur = append(l.cur, wordPart{kind: partSubst, text: l.src[l.i+2 : j], quoted: quoted})
		l.i = j + 1
	case n == '{':
		end := strings.IndexByte(l.src[l.i:], '}')
		if end < 0 {
			return &syntaxError{"Missing '}'"}
		}
		name := l.src[l.i+2 : l.i+end]
		if !validName(name) && !isSpecialParam(name) {
			return &syntaxError{"Bad substitution"}
		}
		l.cur = append(l.cur, wordPart{kind: partParam, text: name, quoted: quoted})
		l.i += end + 1
	case n == '?' || n == '$' || n == '#' || n == '@' || n == '*' || (n >= '0' && n <= '9'):
		l.cur = append(l.cur, wordPart{kind: partParam, text: string(n), quoted: quoted})
		l.i += 2
	case isNameStart(n):
		j := l.i + 1
		for j < len(l.src) && isNameChar(l.src[j]) {
			j++
		}
		l.cur = append(l.cur, wordPart{kind: partParam, text: l.src[l.i+1 : j], quoted: quoted})
		l.i = j
	default:
		l.lit("$", quoted)
		l.i++
	}
	return nil
}

func isNameStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isNameChar(c byte) bool  { return isNameStart(c) || (c >= '0' && c <= '9') }

func validName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

func isSpecialParam(s string) bool {
	return len(s) == 1 && strings.ContainsAny(s, "?$#@*0123456789")
}

// parse builds a script from a command line.
func parse(src string) (script, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	return p.script()
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peekOp() string {
	if p.i < len(p.toks) && p.toks[p.i].kind == tokOp {
		return p.toks[p.i].op
	}
	return ""
}

func (p *parser) script() (script, error) {
	var s script
	for p.i < len(p.toks) {
		if p.peekOp() == ";" { // empty statements between separators
			p.i++
			continue
		}
		ao, err := p.andOr()
		if err != nil {
			return nil, err
		}
		item := listItem{ao: ao}
		switch p.peekOp() {
		case "&":
			item.background = true
			p.i++
		case ";":
			p.i++
		case "":
		default:
			return nil, &syntaxError{fmt.Sprintf("%q unexpected", p.peekOp())}
		}
		s = append(s, item)
	}
	return s, nil
}

func (p *parser) andOr() (andOr, error) {
	var ao andOr
	pl, err := p.pipeline()
	if err != nil {
		return ao, err
	}
	ao.pipes = append(ao.pipes, pl)
	for {
		op := p.peekOp()
		if op != "&&" && op != "||" {
			return ao, nil
		}
		p.i++
		pl, err := p.pipeline()
		if err != nil {
			return ao, err
		}
		ao.ops = append(ao.ops, op)
		ao.pipes = append(ao.pipes, pl)
	}
}

func (p *parser) pipeline() (pipeline, error) {
	var pl pipeline
	for {
		c, err := p.command()
		if err != nil {
			return pl, err
		}
		pl.cmds = append(pl.cmds, c)
		if p.peekOp() != "|" {
			return pl, nil
		}
		p.i++
	}
}

func (p *parser) command() (simpleCmd, error) {
	var c simpleCmd
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		switch t.kind {
		case tokOp:
			if len(c.args) == 0 && len(c.assigns) == 0 && len(c.redirs) == 0 {
				return c, &syntaxError{fmt.Sprintf("%q unexpected", t.op)}
			}
			return c, nil
		case tokRedir:
			r := t.redir
			p.i++
			if r.op != "dup" {
				if p.i >= len(p.toks) || p.toks[p.i].kind != tokWord {
					return c, &syntaxError{"redirection unexpected"}
				}
				r.target = p.toks[p.i].word
				p.i++
			}
			c.redirs = append(c.redirs, r)
		case tokWord:
			p.i++
			if len(c.args) == 0 {
				if a, ok := asAssignment(t.word); ok {
					c.assigns = append(c.assigns, a)
					continue
				}
			}
			c.args = append(c.args, t.word)
		}
	}
	if len(c.args) == 0 && len(c.assigns) == 0 && len(c.redirs) == 0 {
		return c, &syntaxError{"end of file unexpected"}
	}
	return c, nil
}

// asAssignment recognises NAME=value (NAME unquoted).
func asAssignment(w word) (assignment, bool) {
	if len(w) == 0 || w[0].kind != partLit || w[0].quoted {
		return assignment{}, false
	}
	eq := strings.IndexByte(w[0].text, '=')
	if eq <= 0 || !validName(w[0].text[:eq]) {
		return assignment{}, false
	}
	rest := append(word{}, w[1:]...)
	if v := w[0].text[eq+1:]; v != "" {
		rest = append(word{{kind: partLit, text: v}}, rest...)
	}
	return assignment{name: w[0].text[:eq], value: rest}, true
}
