// Package tail cuts a command's output down to its end: the lines that say
// how it finished, within a line and a byte budget. Every excerpt of remote
// output patchrun keeps (in events, in the report, in error values) is made
// here, so they all read the same.
package tail

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"
)

// Default bounds of one excerpt (an event's output, a report's step
// output): enough for a package manager's error and the lines that led to
// it, small enough that a 500-host report stays readable and memory stays
// bounded.
const (
	MaxLines = 40
	MaxBytes = 4 << 10
)

// Output is the end of a command's output within maxLines lines and
// maxBytes bytes: stderr's last lines first (that is where "E:" and
// "Error:" are), then as much of stdout's end as still fits. cut reports
// that anything was left out.
func Output(stdout, stderr []byte, maxLines, maxBytes int) (tail string, cut bool) {
	errLines, errCut := lastLines(stderr, maxLines, maxBytes)
	used := 0
	for _, l := range errLines {
		used += len(l) + 1
	}
	outLines, outCut := lastLines(stdout, maxLines-len(errLines), maxBytes-used)
	return strings.Join(append(errLines, outLines...), "\n"), errCut || outCut
}

// Text bounds text that is already an excerpt (a backend's own summary of
// an install) the same way.
func Text(text string, maxLines, maxBytes int) (string, bool) {
	lines, cut := lastLines([]byte(text), maxLines, maxBytes)
	return strings.Join(lines, "\n"), cut
}

// lastLines returns the last non-blank lines of b, oldest first, that fit in
// maxLines lines and maxBytes bytes (counting one newline per line). A line
// rewritten with carriage returns (a progress bar) keeps only its final
// state; invalid UTF-8 becomes "?" (never longer than what it replaces).
// It walks back from the end, so a 1 MiB output costs only the bytes it
// keeps plus one scan of its last line.
func lastLines(b []byte, maxLines, maxBytes int) (lines []string, cut bool) {
	b = bytes.TrimRight(b, " \t\r\n")
	used := 0
	for len(b) > 0 {
		if len(lines) >= maxLines {
			return finish(lines), true
		}
		line := b
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			line, b = b[i+1:], b[:i]
		} else {
			b = nil
		}
		line = bytes.TrimRight(line, " \t\r")
		if i := bytes.LastIndexByte(line, '\r'); i >= 0 {
			line = line[i+1:]
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		room := maxBytes - used - 1
		if len(line) > room {
			// Only a single overlong last line is kept in part (its end,
			// which says how it finished); otherwise stop at a whole line.
			if len(lines) == 0 && room > len("…") {
				lines = append(lines, "…"+validTail(line, room-len("…")))
			}
			return finish(lines), true
		}
		used += len(line) + 1
		lines = append(lines, strings.ToValidUTF8(string(line), "?"))
	}
	return finish(lines), false
}

// finish puts lines collected back to front in reading order.
func finish(lines []string) []string {
	slices.Reverse(lines)
	return lines
}

// validTail is the last n bytes of b or fewer, starting on a rune boundary.
func validTail(b []byte, n int) string {
	b = b[len(b)-n:]
	for len(b) > 0 && !utf8.RuneStart(b[0]) {
		b = b[1:]
	}
	return strings.ToValidUTF8(string(b), "?")
}

// LastLine is the last non-blank line of stderr, else of stdout, within
// maxBytes: the line that most often says why a command failed.
func LastLine(stdout, stderr []byte, maxBytes int) string {
	for _, b := range [][]byte{stderr, stdout} {
		if l, _ := lastLines(b, 1, maxBytes); len(l) > 0 {
			return l[0]
		}
	}
	return ""
}
