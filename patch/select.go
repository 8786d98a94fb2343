package patch

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

// Validate checks that every pattern compiles, so a typo fails before any
// host is contacted. It does not check the risk policy fields: see
// ValidatePolicy.
func (s Selection) Validate() error {
	for _, p := range append(append([]string{}, s.Include...), s.Exclude...) {
		if _, err := compilePattern(p); err != nil {
			return err
		}
	}
	return nil
}

// cveID is the form of a CVE id: CVE-YEAR-NUMBER (4 or more digits).
var cveID = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)

// PolicyError is a risk policy value that cannot work; Field names it
// ("MinSeverity", "CVEs", "MinAge") so a caller can name its own flag.
type PolicyError struct {
	Field, Value, Want string
}

func (e *PolicyError) Error() string { return fmt.Sprintf("%q: %s", e.Value, e.Want) }

// ValidatePolicy checks the risk policy fields: a known severity level,
// well-formed CVE ids, a non-negative age.
func (s Selection) ValidatePolicy() error {
	if s.MinSeverity != "" && SeverityRank(s.MinSeverity) == 0 {
		return &PolicyError{"MinSeverity", s.MinSeverity, "want critical, important, moderate or low"}
	}
	for _, c := range s.CVEs {
		if !cveID.MatchString(c) {
			return &PolicyError{"CVEs", c, "want a CVE id like CVE-2024-3094"}
		}
	}
	if s.MinAge < 0 {
		return &PolicyError{"MinAge", s.MinAge.String(), "want a positive duration like 7d or 36h"}
	}
	return nil
}

// FullUpgrade reports whether the selection picks every pending update, so
// an install may use the package manager's host-wide upgrade (see
// Backend.Install). SkipOptional does not narrow it: only Windows has
// optional updates, and Windows installs by id in either mode.
func (s Selection) FullUpgrade() bool {
	return !s.SecurityOnly && len(s.Include) == 0 && len(s.Exclude) == 0 && !s.hasPolicy()
}

func (s Selection) hasPolicy() bool {
	return s.MinSeverity != "" || len(s.CVEs) > 0 || s.KnownExploited || s.MinAge > 0
}

// Filter returns the updates the selection picks, in their original order.
func (s Selection) Filter(updates []Update) []Update {
	var out []Update
	for _, u := range updates {
		if s.Match(u) {
			out = append(out, u)
		}
	}
	return out
}

// Match reports whether u is selected. Invalid patterns never match (call
// Validate first).
func (s Selection) Match(u Update) bool { return s.HeldBack(u) == "" }

// HeldBack says why the selection leaves u alone, in a few words naming
// the flag ("not a security update (--security-only)", "no issue date
// (--min-age 7d)"); "" when u is selected. Every condition must hold.
func (s Selection) HeldBack(u Update) string {
	switch {
	case s.SecurityOnly && !u.Security:
		return "not a security update (--security-only)"
	case s.SkipOptional && u.Optional:
		return "optional (add --include-optional)"
	case len(s.Include) > 0 && !anyMatch(s.Include, u):
		return "matches no --include pattern"
	case anyMatch(s.Exclude, u):
		return "matches an --exclude pattern"
	case s.MinSeverity != "" && SeverityRank(u.Severity) < SeverityRank(s.MinSeverity):
		sev := u.Severity
		if sev == "" {
			sev = "no severity"
		}
		return fmt.Sprintf("%s is below --min-severity %s", sev, s.MinSeverity)
	case len(s.CVEs) > 0 && !fixesAny(u, s.CVEs):
		return "fixes none of the --cve ids"
	case s.KnownExploited && !u.KnownExploited:
		return "fixes no known-exploited CVE (--known-exploited)"
	}
	if s.MinAge > 0 {
		if u.Issued == nil || u.Issued.IsZero() {
			return fmt.Sprintf("no issue date, so its age is unknown (--min-age %s)", FormatAge(s.MinAge))
		}
		now := s.Now
		if now.IsZero() {
			now = time.Now()
		}
		if age := now.Sub(*u.Issued); age < s.MinAge {
			return fmt.Sprintf("issued %s ago, younger than --min-age %s", ago(max(age, 0)), FormatAge(s.MinAge))
		}
	}
	return ""
}

// fixesAny reports whether u fixes one of the CVE ids.
func fixesAny(u Update, ids []string) bool {
	for _, c := range u.CVEs {
		for _, id := range ids {
			if strings.EqualFold(c, id) {
				return true
			}
		}
	}
	return false
}

// FormatAge prints a duration as whole days when it is one ("7d"), else
// as Go prints it ("36h0m0s").
func FormatAge(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// ago prints how old something is: whole days from one day on, else
// rounded to the minute.
func ago(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.Round(time.Minute).String()
}
func anyMatch(patterns []string, u Update) bool {
	for _, p := range patterns {
		m, err := compilePattern(p)
		if err != nil {
			continue
		}
		for _, field := range []string{u.Name, u.KB, u.ID} {
			if field != "" && m(field) {
				return true
			}
		}
	}
	return false
}

// compilePattern turns "/regexp/" into a regexp matcher and anything else
// into a case-insensitive shell glob. A bare KB number ("5034441") also
// matches "KB5034441".
func compilePattern(p string) (func(string) bool, error) {
	if len(p) >= 2 && strings.HasPrefix(p, "/") && strings.HasSuffix(p, "/") {
		re, err := regexp.Compile("(?i)" + p[1:len(p)-1])
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		return re.MatchString, nil
	}
	glob := strings.ToLower(p)
	if _, err := path.Match(glob, ""); err != nil {
		return nil, fmt.Errorf("pattern %q: bad glob: %w", p, err)
	}
	return func(s string) bool {
		s = strings.ToLower(s)
		if ok, _ := path.Match(glob, s); ok {
			return true
		}
		ok, _ := path.Match("kb"+glob, s)
		return ok
	}, nil
}
