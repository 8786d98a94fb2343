package unix

import "strings"

// splitSections cuts the output of a marker-separated probe into its
// sections, keyed by section name. Text before the first marker is dropped;
// a section that never appeared is absent from the map (a probe cut short by
// a dropped connection is then visible as missing sections).
func splitSections(out string) map[string]string {
	sections := map[string]string{}
	current := ""
	inSection := false
	var body []string
	flush := func() {
		if inSection {
			sections[current] = strings.Join(body, "\n")
		}
	}
	for _, line := range strings.Split(out, "\n") {
		trimmed := strings.TrimRight(line, "\r")
		if strings.HasPrefix(trimmed, markerPrefix) && strings.HasSuffix(trimmed, markerSuffix) && len(trimmed) > len(markerPrefix)+len(markerSuffix) {
			flush()
			current = trimmed[len(markerPrefix) : len(trimmed)-len(markerSuffix)]
			inSection = true
			body = body[:0]
			continue
		}
		if inSection {
			body = append(body, trimmed)
		}
	}
	flush()
	return sections
}

// nonEmptyLines returns the trimmed, non-blank lines of s.
func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// firstLine returns the first non-blank line of s, trimmed.
func firstLine(s string) string {
	if l := nonEmptyLines(s); len(l) > 0 {
		return l[0]
	}
	return ""
}
