package inventory

import (
	"fmt"
	"net"
	"path"
	"regexp"
	"strings"
)

// Select keeps the hosts a --limit pattern names, in inventory order.
//
// The pattern is a list of terms separated by commas (or colons when there
// is no comma). A term is a host name, a group name, a glob (web*, db-?),
// "all" or "*", or "~regex" (matched against host and group names, anchored
// nowhere, as Ansible does). "!term" removes hosts, "&term" keeps only hosts
// also matched by term. As in Ansible, the result is the union of the plain
// terms (every host if there are none), intersected with each & term, minus
// each ! term, whatever the order they are written in.
//
// A term that matches no host is an error: a typo in "!db*" must not patch
// the databases it meant to exclude.
func Select(hosts []Host, pattern string) ([]Host, error) {
	terms, err := splitPattern(pattern)
	if err != nil {
		return nil, err
	}
	in := make([]bool, len(hosts))
	anyPlain := false
	for _, t := range terms {
		if t.op == opUnion {
			anyPlain = true
		}
	}
	if !anyPlain {
		for i := range in {
			in[i] = true
		}
	}
	for _, phase := range []termOp{opUnion, opIntersect, opExclude} {
		for _, t := range terms {
			if t.op != phase {
				continue
			}
			matched := 0
			for i, h := range hosts {
				m := t.match(h)
				if m {
					matched++
				}
				switch {
				case phase == opUnion && m:
					in[i] = true
				case phase == opIntersect && !m:
					in[i] = false
				case phase == opExclude && m:
					in[i] = false
				}
			}
			if matched == 0 {
				return nil, fmt.Errorf("--limit %q: %q matches no host or group (hint: `patchrun inventory -i FILE` lists names and groups)", pattern, t.text)
			}
		}
	}
	var out []Host
	for i, h := range hosts {
		if in[i] {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--limit %q selects no host", pattern)
	}
	return out, nil
}

type termOp int

const (
	opUnion termOp = iota
	opIntersect
	opExclude
)

// limitTerm is one parsed term of a --limit pattern; immutable after
// parsing (regexp.Regexp is safe for concurrent use).
type limitTerm struct {
	op    termOp
	text  string         // as written, for messages
	name  string         // the term without its operator
	re    *regexp.Regexp // set for ~regex terms
	isAll bool
}

func splitPattern(pattern string) ([]limitTerm, error) {
	sep := ","
	trimmed := strings.TrimSpace(pattern)
	// Colons separate terms only when there are no commas, and never inside
	// a regex or an IPv6 address.
	if !strings.Contains(pattern, ",") && !strings.HasPrefix(trimmed, "~") && net.ParseIP(strings.TrimLeft(trimmed, "!&")) == nil {
		sep = ":"
	}
	var terms []limitTerm
	for _, raw := range strings.Split(pattern, sep) {
		text := strings.TrimSpace(raw)
		if text == "" {
			continue
		}
		t := limitTerm{text: text, name: text}
		switch text[0] {
		case '!':
			t.op, t.name = opExclude, text[1:]
		case '&':
			t.op, t.name = opIntersect, text[1:]
		}
		if t.name == "" {
			return nil, fmt.Errorf("--limit %q: %q has nothing after the operator", pattern, text)
		}
		switch {
		case t.name == "all" || t.name == "*":
			t.isAll = true
		case strings.HasPrefix(t.name, "~"):
			if strings.TrimSpace(t.name[1:]) == "" {
				return nil, fmt.Errorf("--limit %q: %q has no regular expression after ~ (hint: ~web\\d+ matches web1, web22, …)", pattern, text)
			}
			re, err := regexp.Compile(t.name[1:])
			if err != nil {
				return nil, fmt.Errorf("--limit %q: bad regular expression %q: %w", pattern, t.name[1:], err)
			}
			t.re = re
		default:
			if _, err := path.Match(t.name, ""); err != nil {
				return nil, fmt.Errorf("--limit %q: bad glob %q: %w", pattern, t.name, err)
			}
		}
		terms = append(terms, t)
	}
	if len(terms) == 0 {
		return nil, fmt.Errorf("--limit %q: empty pattern (hint: use all, a host or group name, or a glob like web*)", pattern)
	}
	return terms, nil
}

// match reports whether the term names h, by its name or one of its groups.
func (t limitTerm) match(h Host) bool {
	if t.isAll {
		return true
	}
	if t.matchName(h.Name) {
		return true
	}
	for _, g := range h.Groups {
		if t.matchName(g) {
			return true
		}
	}
	return false
}

func (t limitTerm) matchName(name string) bool {
	if t.re != nil {
		return t.re.MatchString(name)
	}
	ok, _ := path.Match(t.name, name) // pattern checked in splitPattern
	return ok
}
