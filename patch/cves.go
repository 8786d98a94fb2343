package patch

import (
	"slices"
	"strings"
)

// NormalizeCVEs returns CVE ids trimmed, upper-cased, sorted and unique,
// the form Update.CVEs holds; nil when there are none.
func NormalizeCVEs(ids []string) []string {
	var out []string
	for _, c := range ids {
		if c = strings.ToUpper(strings.TrimSpace(c)); c != "" {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
