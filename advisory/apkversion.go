package advisory

import "strings"

// apk (Alpine) versions have the shape
//
//	NUMBER{.NUMBER}[LETTER]{_SUFFIX[NUMBER]}[-rREVISION]
//
// compared left to right, token by token. A dotted number with leading
// zeros counts its zeros (more zeros sort lower) before its digits; the
// suffixes _alpha, _beta, _pre and _rc sort before the plain release and
// _cvs, _svn, _git, _hg and _p after it. Where one version ends (or moves
// on to a later part) while the other goes on, the one going on with a
// pre-release suffix is older; otherwise the one going on with an earlier
// part (another number, a letter, a suffix, a revision, in that order) is
// newer. A version that is not of this shape where the two still agree is
// compared as a plain string.

type apkKind int

const (
	apkDot      apkKind = iota // a ".NUMBER" component
	apkNumber                  // digits (the first number, or a letter's or leading zeros' continuation)
	apkLetter                  // one lower-case letter after a number
	apkSuffix                  // "_alpha" … "_p"
	apkSuffixNo                // the number after a suffix
	apkRevision                // "-rN"
	apkEnd
	apkInvalid
)

type apkToken struct {
	kind apkKind
	num  string // digits for number kinds
	val  int    // letter code, suffix rank (pre < 0 ≤ post), or minus the count of leading zeros
}

// apkTokens splits v into tokens, ending with apkEnd or apkInvalid.
func apkTokens(v string) []apkToken {
	var out []apkToken
	kind := apkNumber
	for v != "" {
		var t apkToken
		switch {
		case kind == apkDot && v[0] == '0':
			// Leading zeros: their count, then the digits after them.
			z, rest := span(v, func(c byte) bool { return c == '0' })
			digits, rest := span(rest, isDigit)
			t, v = apkToken{kind: apkDot, val: -len(z), num: digits}, rest
		case kind == apkLetter:
			t, v = apkToken{kind: apkLetter, val: int(v[0])}, v[1:]
		case kind == apkSuffix:
			rank, n, ok := apkSuffixRank(v)
			if !ok {
				return append(out, apkToken{kind: apkInvalid})
			}
			t, v = apkToken{kind: apkSuffix, val: rank}, v[n:]
		default: // a number of some kind
			digits, rest := span(v, isDigit)
			if digits == "" {
				return append(out, apkToken{kind: apkInvalid})
			}
			t, v = apkToken{kind: kind, num: digits}, rest
		}
		out = append(out, t)
		if v == "" {
			break
		}
		if kind = apkNext(t.kind, &v); kind == apkInvalid {
			return append(out, apkToken{kind: apkInvalid})
		}
	}
	return append(out, apkToken{kind: apkEnd})
}

// apkNext reads the separator after a token of kind prev and says what
// comes next, or apkInvalid.
func apkNext(prev apkKind, v *string) apkKind {
	c := (*v)[0]
	var next apkKind
	switch {
	case (prev == apkNumber || prev == apkDot) && c >= 'a' && c <= 'z':
		return apkLetter
	case prev == apkLetter && isDigit(c):
		return apkNumber
	case prev == apkSuffix && isDigit(c):
		return apkSuffixNo
	case c == '.':
		next = apkDot
	case c == '_':
		next = apkSuffix
	case c == '-' && len(*v) > 1 && (*v)[1] == 'r':
		next = apkRevision
		*v = (*v)[1:]
	default:
		return apkInvalid
	}
	*v = (*v)[1:]
	// Parts come in order; only a number may follow a letter, and a
	// suffix may follow a suffix.
	if next < prev && !(next == apkDot && prev == apkNumber) && !(next == apkSuffix && prev == apkSuffixNo) {
		return apkInvalid
	}
	return next
}

// apkSuffixRank ranks the suffix v starts with: pre-release ones below 0.
func apkSuffixRank(v string) (rank, n int, ok bool) {
	apkPreSuffixes := [...]string{"alpha", "beta", "pre", "rc"}
	apkPostSuffixes := [...]string{"cvs", "svn", "git", "hg", "p"}
	for i, s := range apkPreSuffixes {
		if strings.HasPrefix(v, s) {
			return i - len(apkPreSuffixes), len(s), true
		}
	}
	for i, s := range apkPostSuffixes {
		if strings.HasPrefix(v, s) {
			return i, len(s), true
		}
	}
	return 0, 0, false
}

// compareAPK orders two apk versions.
func compareAPK(a, b string) int {
	ta, tb := apkTokens(strings.TrimSpace(a)), apkTokens(strings.TrimSpace(b))
	for i := 0; ; i++ {
		x, y := ta[i], tb[i]
		if x.kind == apkInvalid || y.kind == apkInvalid {
			return strings.Compare(a, b)
		}
		if x.kind != y.kind {
			return apkKindOrder(x, y)
		}
		if x.kind == apkEnd {
			return 0
		}
		if c := sign(x.val - y.val); c != 0 {
			return c
		}
		if c := compareNumber(x.num, y.num); c != 0 {
			return c
		}
	}
}

// apkKindOrder decides between two versions that agree so far and go on
// with different parts.
func apkKindOrder(x, y apkToken) int {
	if x.kind == apkSuffix && x.val < 0 {
		return -1
	}
	if y.kind == apkSuffix && y.val < 0 {
		return 1
	}
	if x.kind > y.kind {
		return -1
	}
	return 1
}
