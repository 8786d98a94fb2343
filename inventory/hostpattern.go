package inventory

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// maxExpansion bounds a range so a typo like web[1:99999999] fails instead
// of eating memory.
const maxExpansion = 100000

// expandHostPattern splits "name[:port]" and expands ranges such as
// web[01:03] or db-[a:c].example.com (Ansible's syntax, with an optional
// step: [01:10:2]). "[2001:db8::1]:22" and bare IPv6 addresses are kept whole.
func expandHostPattern(s string) (names []string, port string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, "", fmt.Errorf("empty host name")
	}
	// [IPv6]:port
	if strings.HasPrefix(s, "[") {
		if end := strings.Index(s, "]"); end > 0 && net.ParseIP(s[1:end]) != nil {
			host, rest := s[1:end], s[end+1:]
			if rest == "" {
				return []string{host}, "", nil
			}
			if !strings.HasPrefix(rest, ":") {
				return nil, "", fmt.Errorf("bad host %q", s)
			}
			return []string{host}, rest[1:], nil
		}
	}
	if net.ParseIP(s) != nil {
		return []string{s}, "", nil
	}
	host := s
	if i := lastColonOutsideBrackets(s); i >= 0 {
		host, port = s[:i], s[i+1:]
		if port == "" {
			return nil, "", fmt.Errorf("empty port in %q", s)
		}
	}
	names, err = expandRanges(host)
	if err != nil {
		return nil, "", err
	}
	for _, n := range names {
		if msg := checkHostName(n); msg != "" {
			return nil, "", fmt.Errorf("invalid host: %s", msg)
		}
		if strings.Contains(n, ":") {
			return nil, "", fmt.Errorf("bad host %q (IPv6 with a port is written [addr]:port)", s)
		}
	}
	return names, port, nil
}

func lastColonOutsideBrackets(s string) int {
	depth, at := 0, -1
	for i, c := range s {
		switch c {
		case '[':
			depth++
		case ']':
			depth--
		case ':':
			if depth == 0 {
				at = i
			}
		}
	}
	return at
}

// expandRanges expands the first [a:b] in s and recurses on the rest.
func expandRanges(s string) ([]string, error) {
	open := strings.IndexByte(s, '[')
	if open < 0 {
		if strings.IndexByte(s, ']') >= 0 {
			return nil, fmt.Errorf("unmatched ] in %q", s)
		}
		return []string{s}, nil
	}
	closing := strings.IndexByte(s[open:], ']')
	if closing < 0 {
		return nil, fmt.Errorf("unmatched [ in %q", s)
	}
	closing += open
	prefix, spec, suffix := s[:open], s[open+1:closing], s[closing+1:]
	items, err := rangeItems(spec)
	if err != nil {
		return nil, fmt.Errorf("bad range [%s] in %q: %w", spec, s, err)
	}
	rest, err := expandRanges(suffix)
	if err != nil {
		return nil, err
	}
	if len(items)*len(rest) > maxExpansion {
		return nil, fmt.Errorf("range in %q makes more than %d hosts", s, maxExpansion)
	}
	out := make([]string, 0, len(items)*len(rest))
	for _, it := range items {
		for _, r := range rest {
			out = append(out, prefix+it+r)
		}
	}
	return out, nil
}

// rangeItems expands "01:03", "1:10:2" or "a:c".
func rangeItems(spec string) ([]string, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("want start:end or start:end:step")
	}
	step := 1
	if len(parts) == 3 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("step must be a positive number")
		}
		step = n
	}
	lo, hi := parts[0], parts[1]
	if isLetter(lo) && isLetter(hi) {
		if lo[0] > hi[0] {
			return nil, fmt.Errorf("start after end")
		}
		var out []string
		for c := lo[0]; c <= hi[0]; c += byte(step) {
			out = append(out, string(c))
			if int(c)+step > 255 {
				break
			}
		}
		return out, nil
	}
	a, errA := strconv.Atoi(lo)
	b, errB := strconv.Atoi(hi)
	if errA != nil || errB != nil || a < 0 || b < 0 {
		return nil, fmt.Errorf("start and end must both be numbers or both single letters")
	}
	if a > b {
		return nil, fmt.Errorf("start after end")
	}
	if (b-a)/step+1 > maxExpansion {
		return nil, fmt.Errorf("more than %d hosts", maxExpansion)
	}
	width := 0
	if len(lo) > 1 && lo[0] == '0' {
		width = len(lo) // zero-padded: web[01:10] → web01 … web10
	}
	var out []string
	for i := a; i <= b; i += step {
		out = append(out, fmt.Sprintf("%0*d", width, i))
	}
	return out, nil
}

func isLetter(s string) bool {
	return len(s) == 1 && (s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z')
}
