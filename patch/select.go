package patch

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Validate checks that every pattern compiles, so a typo fails before any
// host is contacted.
func (s Selection) Validate() error {
	for _, p := range append(append([]string{}, s.Include...), s.Exclude...) {
		if _, err := compilePattern(p); err != nil {
			return err
		}
	}
	return nil
}

// FullUpgrade reports whether the selection picks every pending update, so
// an install may use the package manager's host-wide upgrade (see
// Backend.Install). SkipOptional does not narrow it: only Windows has
// optional updates, and Windows installs by id in either mode.
func (s Selection) FullUpgrade() bool {
	return !s.SecurityOnly && len(s.Include) == 0 && len(s.Exclude) == 0
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
func (s Selection) Match(u Update) bool {
	if s.SecurityOnly && !u.Security {
		return false
	}
	if s.SkipOptional && u.Optional {
		return false
	}
	if len(s.Include) > 0 && !anyMatch(s.Include, u) {
		return false
	}
	return !anyMatch(s.Exclude, u)
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
