package advisory

import "strings"

// Each ecosystem orders versions by its package manager's own rules. A
// compare function returns -1, 0 or +1 as a sorts before, equal to or after b.

// compareDpkg orders Debian/Ubuntu versions as dpkg does
// ([epoch:]upstream[-revision], with '~' sorting before anything, even the
// end of the string).
func compareDpkg(a, b string) int {
	ea, ua, ra := splitEVR(a)
	eb, ub, rb := splitEVR(b)
	if c := compareNumber(ea, eb); c != 0 {
		return c
	}
	if c := dpkgPart(ua, ub); c != 0 {
		return c
	}
	return dpkgPart(ra, rb)
}

// dpkgOrder is the weight of one character in a non-digit run: '~' first,
// then the end of the part, then letters, then everything else.
func dpkgOrder(c byte) int {
	switch {
	case c == '~':
		return -1
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	}
	return int(c) + 256
}

// dpkgPart is dpkg's verrevcmp: alternating non-digit and digit runs.
func dpkgPart(a, b string) int {
	for a != "" || b != "" {
		first := 0
		for (a != "" && !isDigit(a[0])) || (b != "" && !isDigit(b[0])) {
			ac, bc := 0, 0
			if a != "" {
				ac = dpkgOrder(a[0])
			}
			if b != "" {
				bc = dpkgOrder(b[0])
			}
			if ac != bc {
				return sign(ac - bc)
			}
			a, b = a[1:], b[1:]
		}
		for a != "" && a[0] == '0' {
			a = a[1:]
		}
		for b != "" && b[0] == '0' {
			b = b[1:]
		}
		for a != "" && isDigit(a[0]) && b != "" && isDigit(b[0]) {
			if first == 0 {
				first = int(a[0]) - int(b[0])
			}
			a, b = a[1:], b[1:]
		}
		if a != "" && isDigit(a[0]) {
			return 1
		}
		if b != "" && isDigit(b[0]) {
			return -1
		}
		if first != 0 {
			return sign(first)
		}
	}
	return 0
}

// compareRPM orders [epoch:]version[-release] as rpm.vercmp does
// (rpmvercmp on each part; a missing epoch is 0, a missing release sorts
// before any release).
func compareRPM(a, b string) int {
	ea, va, ra := splitEVR(a)
	eb, vb, rb := splitEVR(b)
	if c := compareNumber(ea, eb); c != 0 {
		return c
	}
	if c := rpmvercmp(va, vb); c != 0 {
		return c
	}
	return rpmvercmp(ra, rb)
}

// splitEVR splits [epoch:]version[-revision] at the first ':' and the
// last '-', as dpkg and rpm both do.
func splitEVR(v string) (epoch, version, release string) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, v = v[:i], v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v, release = v[:i], v[i+1:]
	}
	return epoch, v, release
}

// rpmvercmp is rpm's segment comparison: separators are ignored, '~' sorts
// before anything (even the end), '^' after the end but before anything
// else, digit segments compare numerically and beat alphabetic ones.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	for a != "" || b != "" {
		for a != "" && !isAlnum(a[0]) && a[0] != '~' && a[0] != '^' {
			a = a[1:]
		}
		for b != "" && !isAlnum(b[0]) && b[0] != '~' && b[0] != '^' {
			b = b[1:]
		}
		if (a != "" && a[0] == '~') || (b != "" && b[0] == '~') {
			if a == "" || a[0] != '~' {
				return 1
			}
			if b == "" || b[0] != '~' {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if (a != "" && a[0] == '^') || (b != "" && b[0] == '^') {
			if a == "" {
				return -1
			}
			if b == "" {
				return 1
			}
			if a[0] != '^' {
				return 1
			}
			if b[0] != '^' {
				return -1
			}
			a, b = a[1:], b[1:]
			continue
		}
		if a == "" || b == "" {
			break
		}
		var sa, sb string
		numeric := isDigit(a[0])
		if numeric {
			sa, a = span(a, isDigit)
			sb, b = span(b, isDigit)
		} else {
			sa, a = span(a, isAlpha)
			sb, b = span(b, isAlpha)
		}
		if sb == "" { // b's segment is of the other kind
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			if c := compareNumber(sa, sb); c != 0 {
				return c
			}
			continue
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

// compareNumber compares two runs of digits of any length ("" is 0).
func compareNumber(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

func span(s string, ok func(byte) bool) (string, string) {
	i := 0
	for i < len(s) && ok(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
