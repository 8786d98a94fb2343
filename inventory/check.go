package inventory

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Values that name or reach a host are checked at load, so a stray control
// character, a pasted "user@host:22" or "10.0.0.1 ; rm -rf /" is an error
// at its line instead of a puzzling failure at dial time.

// maxNameLen caps host names, group names, addresses and users: a DNS name
// is at most 253 characters, and nothing longer is a real login either.
const maxNameLen = 255

// checkHostName returns why name can't be a host (or group) name, or "".
// Commas, colons and spaces would collide with --limit syntax.
func checkHostName(name string) string {
	if msg := checkShortText(name); msg != "" {
		return "name " + msg
	}
	switch {
	case strings.ContainsAny(name, ",&!~*?[]"):
		return "name " + quote(name) + " contains one of , & ! ~ * ? [ ] (they mean something in --limit)"
	case strings.IndexFunc(name, unicode.IsSpace) >= 0:
		return "name " + quote(name) + " contains whitespace"
	case strings.Contains(name, "@"):
		return "name " + quote(name) + " contains @ (a name is not user@host; set user: and address: separately)"
	case strings.Contains(name, ":") && !isIPLiteral(name):
		return "name " + quote(name) + " contains : (a name is not host:port; set port: separately)"
	}
	return ""
}

// checkAddress returns why a is not a DNS name, IPv4 or IPv6 literal, or "".
func checkAddress(a string) string {
	if msg := checkShortText(a); msg != "" {
		return "address " + msg
	}
	if isIPLiteral(a) {
		return ""
	}
	bad := func(why string) string {
		return "address " + quote(a) + " " + why + " (want a host name, an IPv4 or an IPv6 address)"
	}
	if strings.HasPrefix(a, "[") {
		return bad("has brackets")
	}
	for _, c := range a {
		ok := c == '.' || c == '-' || c == '_' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return bad("contains " + strconv.QuoteRune(c))
		}
	}
	for _, label := range strings.Split(strings.TrimSuffix(a, "."), ".") {
		switch {
		case label == "":
			return bad("has an empty label")
		case strings.HasPrefix(label, "-"):
			return bad("has a label starting with -")
		}
	}
	return ""
}

// userShellChars make no sense in a login name and would only ever be a
// mistake or an attack; backslash (DOMAIN\user) and @ (user@REALM) are real.
const userShellChars = "`$;|&<>(){}'\"*?!#"

// checkUser returns why u can't be a login name, or "". Windows accounts may
// contain spaces; Unix logins may not.
func checkUser(u, transport string) string {
	if msg := checkShortText(u); msg != "" {
		return "user " + msg
	}
	switch {
	case strings.ContainsAny(u, userShellChars):
		return "user " + quote(u) + " contains one of " + userShellChars
	case strings.HasPrefix(u, "-"):
		return "user " + quote(u) + " starts with -"
	case strings.TrimSpace(u) != u:
		return "user " + quote(u) + " starts or ends with whitespace"
	case transport != TransportWinRM && strings.IndexFunc(u, unicode.IsSpace) >= 0:
		return "user " + quote(u) + " contains whitespace"
	}
	return ""
}

// checkProxyJump refuses characters no "[ssh://][user@]host[:port],…"
// jump spec holds (the SSH transport parses the spec itself), or "".
func checkProxyJump(spec string) string {
	if strings.ContainsAny(spec, userShellChars) {
		return "proxy jump " + quote(spec) + " contains one of " + userShellChars
	}
	return ""
}

// checkShortText refuses empty, overlong, non-UTF-8 or control-character
// text, the rules every name, address and user shares. The message does
// not start with what the text is; callers add it.
func checkShortText(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > maxNameLen:
		return fmt.Sprintf("is %d characters long (at most %d)", len(s), maxNameLen)
	case strings.Contains(s, "\t"):
		return quote(s) + " contains a tab"
	}
	return checkControl(s)
}

// checkControl refuses invalid UTF-8 and control characters (a tab is
// allowed only where whitespace is), which would garble a terminal or a log.
func checkControl(s string) string {
	if !utf8.ValidString(s) {
		return quote(s) + " is not valid UTF-8"
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return fmt.Sprintf("%s contains the control character %U", quote(s), r)
	}
	return ""
}

func isIPLiteral(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// quote renders a value for a message: escaped, so a control character
// cannot reach the terminal, and cut short, so a huge value cannot flood it.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
