package inventory

import (
	"fmt"
	"strings"
)

// readAnsibleINI reads an Ansible INI inventory:
//
//	web0 ansible_host=10.0.0.4          # before any section: ungrouped
//	[web]
//	web[01:03].example.com ansible_port=2222
//	[web:vars]
//	ansible_user=deploy
//	[prod:children]
//	web
func readAnsibleINI(data []byte, p, warns *problems) []hostSpec {
	a := newAnsibleInventory()
	section, kind := "all", ""
	// For the typo warnings: sections that define a group, child groups
	// named, and [group:vars] sections, each with its line.
	defined := map[string]bool{"all": true}
	var children, varSections []iniMention
	for i, raw := range splitLines(data) {
		line := i + 1
		t := strings.TrimSpace(raw)
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			var ok bool
			section, kind, ok = iniSection(t, line, p)
			if !ok {
				section, kind = "", "skip" // ignore the body of a broken section
				continue
			}
			a.group(section, line)
			switch kind {
			case "", "children":
				defined[section] = true
			case "vars":
				varSections = append(varSections, iniMention{group: section, line: line})
			}
			continue
		}
		switch kind {
		case "skip":
		case "":
			readINIHostLine(a, section, t, line, p)
		case "vars":
			k, v, ok := strings.Cut(t, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" {
				p.add(line, fmt.Sprintf("[%s:vars]", section), fmt.Sprintf("expected name=value, got %q", t), "")
				continue
			}
			g := a.group(section, line)
			g.vars = append(g.vars, rawVar{name: k, val: unquote(stripComment(strings.TrimSpace(v))), line: line,
				key: fmt.Sprintf("[%s:vars].%s", section, k)})
		case "children":
			child := stripComment(t)
			if msg := checkHostName(child); msg != "" || strings.ContainsAny(child, " \t") {
				p.add(line, fmt.Sprintf("[%s:children]", section), fmt.Sprintf("expected one group name, got %q", t), "")
				continue
			}
			a.addChild(section, child, line)
			children = append(children, iniMention{group: child, parent: section, line: line})
		}
	}
	warnINITypos(a, defined, children, varSections, warns)
	return a.specs(p, warns)
}

// iniMention is a group named in a [parent:children] or [group:vars] section.
type iniMention struct {
	group, parent string
	line          int
}

// warnINITypos warns about a child group no section defines and vars for a
// group without hosts. Ansible accepts both silently, but either is
// usually a typo that leaves hosts out of a group or without their vars.
func warnINITypos(a *ansibleInventory, defined map[string]bool, children, varSections []iniMention, warns *problems) {
	for _, c := range children {
		if !defined[c.group] {
			warns.add(c.line, fmt.Sprintf("[%s:children]", c.parent), fmt.Sprintf("group %q is not defined anywhere in the file", c.group),
				fmt.Sprintf("add a [%s] section with its hosts, or fix the name", c.group))
		}
	}
	for _, v := range varSections {
		if v.group == "all" || v.group == "ungrouped" {
			continue // every host, or the hosts before any section
		}
		if !a.hasHosts(v.group, map[string]bool{}) {
			warns.add(v.line, fmt.Sprintf("[%s:vars]", v.group), fmt.Sprintf("group %q has no hosts, so these vars apply to nothing", v.group),
				fmt.Sprintf("add a [%s] section with its hosts, or fix the name", v.group))
		}
	}
}

// iniSection parses "[name]", "[name:vars]" or "[name:children]".
func iniSection(t string, line int, p *problems) (name, kind string, ok bool) {
	t = stripComment(t)
	if !strings.HasSuffix(t, "]") {
		p.add(line, t, "section header must end with ]", "write [group], [group:vars] or [group:children]")
		return "", "", false
	}
	name, kind, _ = strings.Cut(t[1:len(t)-1], ":")
	name = strings.TrimSpace(name)
	if msg := checkHostName(name); msg != "" {
		p.add(line, t, "invalid group name: "+msg, "")
		return "", "", false
	}
	switch kind {
	case "", "vars", "children":
		return name, kind, true
	}
	p.add(line, t, fmt.Sprintf("unknown section kind %q", kind), didYouMean(kind, []string{"vars", "children"}))
	return "", "", false
}

// readINIHostLine reads "pattern [name=value ...]".
func readINIHostLine(a *ansibleInventory, group, t string, line int, p *problems) {
	fields := iniFields(t)
	if len(fields) == 0 {
		return
	}
	pattern := fields[0]
	names, port, err := expandHostPattern(pattern)
	if err != nil {
		p.add(line, pattern, err.Error(), "write a host name, host:port, or a range like web[01:03]")
		return
	}
	var vars []rawVar
	if port != "" {
		vars = append(vars, rawVar{name: "ansible_port", val: port, line: line, key: pattern})
	}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			p.add(line, pattern, fmt.Sprintf("expected name=value after the host, got %q", f),
				"one host per line; put variables as name=value after it")
			return
		}
		vars = append(vars, rawVar{name: k, val: unquote(v), line: line, key: pattern + "." + k})
	}
	for _, n := range names {
		h := a.addHost(group, n, line)
		h.vars = append(h.vars, vars...)
	}
}

// iniFields splits a host line on blanks, keeping quoted values whole and
// stopping at a # that starts a word.
func iniFields(s string) []string {
	var out []string
	var cur strings.Builder
	var quote byte
	inField := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			cur.WriteByte(c)
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
			cur.WriteByte(c)
			inField = true
		case c == ' ' || c == '\t':
			if inField {
				out = append(out, cur.String())
				cur.Reset()
				inField = false
			}
		case c == '#' && !inField:
			return out
		default:
			cur.WriteByte(c)
			inField = true
		}
	}
	if inField {
		out = append(out, cur.String())
	}
	return out
}

// unquote strips one pair of matching surrounding quotes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
