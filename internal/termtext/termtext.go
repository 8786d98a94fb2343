// Package termtext makes text that patchrun did not write (remote output,
// package names, os-release values, inventory values, file contents) safe
// to print on a terminal: every character a terminal would act on is shown
// as a visible escape instead of being sent raw.
//
// The escaped form: ESC, BEL, NUL and the other C0 controls, DEL, and bytes
// that are not valid UTF-8 become \xNN (ESC is \x1b); CR is \r; the C1
// controls (U+0080–U+009F) and the bidirectional overrides and isolates
// (U+202A–U+202E, U+2066–U+2069, which reorder what is shown) become \uNNNN.
// A backslash itself is left alone, so the form is for reading, not for
// decoding: the JSON output and the event stream keep the bytes.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text escapes s for a block of text: newlines and tabs are kept, and a
// CRLF line end becomes LF (Windows output would otherwise show \r on every
// line).
func Text(s string) string { return escape(s, true) }

// Line escapes s for one line or one table cell: newlines and tabs are
// escaped too, so the layout holds.
func Line(s string) string { return escape(s, false) }

func escape(s string, block bool) string {
	if clean(s, block) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case block && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case block && r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
			// CRLF: the LF follows.
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// clean reports whether s needs no escaping (the common case: no copy).
func clean(s string, block bool) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return false
		case r == '\n' || r == '\t':
			if !block {
				return false
			}
		case r < 0x20 || r == 0x7f || unsafeRune(r):
			return false
		}
		i += size
	}
	return true
}

// unsafeRune: C1 controls and the bidirectional formatting characters.
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
