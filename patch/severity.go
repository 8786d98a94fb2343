package patch

import (
	"strconv"
	"strings"
)

// The normalised severities, most severe first. Every update's Severity is
// one of these or empty (no data at all).
const (
	SeverityCritical  = "critical"
	SeverityImportant = "important"
	SeverityModerate  = "moderate"
	SeverityLow       = "low"
	SeverityUnknown   = "unknown"
)

// SeverityRank orders normalised severities: critical 4 … low 1, unknown
// and empty 0.
func SeverityRank(s string) int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityImportant:
		return 3
	case SeverityModerate:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// NormalizeSeverity maps a vendor's severity word, or a CVSS base score,
// onto critical|important|moderate|low|unknown: Red Hat/SUSE/MSRC words
// map to themselves; Debian urgencies and Ubuntu priorities
// (high/medium/low/negligible/unimportant) and CVSS qualitative ratings
// (critical/high/medium/low) map to the nearest level; a CVSS score maps
// by its qualitative bands (≥9 critical, ≥7 important, ≥4 moderate, >0
// low). Anything else is unknown.
func NormalizeSeverity(vendor string) string {
	v := strings.ToLower(strings.TrimSpace(vendor))
	v = strings.TrimSuffix(v, "*") // Debian marks some urgencies "high*"
	switch v {
	case "critical", "urgent", "emergency":
		return SeverityCritical
	case "important", "high":
		return SeverityImportant
	case "moderate", "medium":
		return SeverityModerate
	case "low", "negligible", "unimportant":
		return SeverityLow
	}
	if score, err := strconv.ParseFloat(v, 64); err == nil && score >= 0 && score <= 10 {
		switch {
		case score >= 9:
			return SeverityCritical
		case score >= 7:
			return SeverityImportant
		case score >= 4:
			return SeverityModerate
		case score > 0:
			return SeverityLow
		}
	}
	return SeverityUnknown
}
