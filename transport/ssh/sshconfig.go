package ssh

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// SSHConfigEntry is what ~/.ssh/config says about one host, for the keys
// patchrun uses. Zero fields were not set.
type SSHConfigEntry struct {
	HostName string // %h expanded
	User     string
	Port     int
	// IdentityFiles are in order and as written: ~ and % tokens are left
	// for the caller, which alone knows their values, to expand once.
	IdentityFiles []string
	ProxyJump     string // "" also when the file says "none"
}

// ParseSSHConfig reads an OpenSSH client config and returns the settings
// that apply to host, with OpenSSH's rule that the first value obtained for
// a keyword wins (IdentityFile accumulates). Host patterns support *, ? and
// !negation. Match blocks and Include are not evaluated: their settings are
// ignored.
func ParseSSHConfig(r io.Reader, host string) (SSHConfigEntry, error) {
	var e SSHConfigEntry
	set := map[string]bool{}
	applies := true // lines before the first Host apply to every host
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		key, args, err := splitConfigLine(sc.Text())
		if err != nil {
			return e, fmt.Errorf("ssh config line %d: %w", n, err)
		}
		switch {
		case key == "":
			continue
		case key == "host":
			applies = hostMatches(args, host)
			continue
		case key == "match":
			applies = false
			continue
		case !applies || len(args) == 0:
			continue
		}
		if key == "identityfile" {
			e.IdentityFiles = append(e.IdentityFiles, args[0])
			continue
		}
		if set[key] {
			continue
		}
		switch key {
		case "hostname":
			e.HostName = strings.ReplaceAll(strings.ReplaceAll(args[0], "%h", host), "%%", "%")
		case "user":
			e.User = args[0]
		case "port":
			p, err := strconv.Atoi(args[0])
			if err != nil || p < 1 || p > 65535 {
				return e, fmt.Errorf("ssh config line %d: bad port %q", n, args[0])
			}
			e.Port = p
		case "proxyjump":
			if !strings.EqualFold(args[0], "none") {
				e.ProxyJump = args[0]
			}
		default:
			continue
		}
		set[key] = true
	}
	if err := sc.Err(); err != nil {
		return e, fmt.Errorf("ssh config: %w", err)
	}
	return e, nil
}

// splitConfigLine splits "Keyword args" or "Keyword=args", honouring double
// quotes and # comments; the keyword is lowercased.
func splitConfigLine(line string) (string, []string, error) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", nil, nil
	}
	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		return strings.ToLower(line), nil, nil
	}
	key := strings.ToLower(line[:end])
	rest := strings.TrimLeft(line[end:], " \t")
	rest = strings.TrimLeft(strings.TrimPrefix(rest, "="), " \t")
	var args []string
	for rest != "" {
		if rest[0] == '#' {
			break
		}
		if rest[0] == '"' {
			closing := strings.IndexByte(rest[1:], '"')
			if closing < 0 {
				return "", nil, fmt.Errorf("unterminated quote")
			}
			args = append(args, rest[1:1+closing])
			rest = strings.TrimLeft(rest[2+closing:], " \t")
			continue
		}
		word, after, _ := strings.Cut(rest, " ")
		word, tabAfter, hasTab := strings.Cut(word, "\t")
		if hasTab {
			after = tabAfter + " " + after
		}
		args = append(args, word)
		rest = strings.TrimLeft(after, " \t")
	}
	return key, args, nil
}

// hostMatches applies a Host line's patterns: some positive pattern must
// match and no negated one may.
func hostMatches(patterns []string, host string) bool {
	matched := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		ok, err := path.Match(strings.TrimPrefix(p, "!"), host)
		if err != nil || !ok {
			continue
		}
		if neg {
			return false
		}
		matched = true
	}
	return matched
}
