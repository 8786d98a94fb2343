package patch

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestSelectionMatch(t *testing.T) {
	openssl := Update{Name: "openssl", Security: true}
	kernel := Update{Name: "linux-image-amd64"}
	kb := Update{Name: "2024-01 Cumulative Update for Windows Server 2022", KB: "KB5034129", Severity: "Critical", Security: true, ID: "a1b2"}
	optional := Update{Name: "Preview of .NET", KB: "KB5000001", Optional: true}
	tests := []struct {
		name string
		sel  Selection
		u    Update
		want bool
	}{
		{"empty selects all", Selection{}, kernel, true},
		{"security only keeps security", Selection{SecurityOnly: true}, openssl, true},
		{"security only drops others", Selection{SecurityOnly: true}, kernel, false},
		{"include glob", Selection{Include: []string{"linux-*"}}, kernel, true},
		{"include glob misses", Selection{Include: []string{"linux-*"}}, openssl, false},
		{"include is case-insensitive", Selection{Include: []string{"OpenSSL"}}, openssl, true},
		{"exclude wins over include", Selection{Include: []string{"*"}, Exclude: []string{"linux-image-*"}}, kernel, false},
		{"include by KB", Selection{Include: []string{"KB5034129"}}, kb, true},
		{"include by bare KB number", Selection{Include: []string{"5034129"}}, kb, true},
		{"include by KB glob", Selection{Include: []string{"kb503*"}}, kb, true},
		{"include by title regexp", Selection{Include: []string{"/cumulative update/"}}, kb, true},
		{"exclude by regexp", Selection{Exclude: []string{"/^linux-/"}}, kernel, false},
		{"include by update id", Selection{Include: []string{"a1b2"}}, kb, true},
		{"skip optional", Selection{SkipOptional: true}, optional, false},
		{"optional kept by default", Selection{}, optional, true},
		{"invalid pattern never matches", Selection{Include: []string{"/(/"}}, openssl, false},
	}
	for _, tt := range tests {
		if got := tt.sel.Match(tt.u); got != tt.want {
			t.Errorf("%s: Match(%s) = %v, want %v", tt.name, tt.u.Name, got, tt.want)
		}
	}
}

func TestSelectionFilterKeepsOrder(t *testing.T) {
	us := []Update{{Name: "b", Security: true}, {Name: "a"}, {Name: "c", Security: true}}
	got := Selection{SecurityOnly: true}.Filter(us)
	want := []Update{{Name: "b", Security: true}, {Name: "c", Security: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Filter = %+v, want %+v", got, want)
	}
}

func TestSelectionValidate(t *testing.T) {
	for _, bad := range []Selection{
		{Include: []string{"/[a-/"}},
		{Exclude: []string{"[unclosed"}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted a broken pattern", bad)
		}
	}
	if err := (Selection{Include: []string{"openssl*", "/^lib/", "KB5034441"}}).Validate(); err != nil {
		t.Errorf("Validate rejected good patterns: %v", err)
	}
}

func TestSelectionRiskPolicy(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	crit := Update{Name: "openssl", Security: true, Severity: SeverityCritical, CVEs: []string{"CVE-2024-1111", "CVE-2023-9999"},
		KnownExploited: true, Issued: at(30 * 24 * time.Hour)}
	mod := Update{Name: "curl", Security: true, Severity: SeverityModerate, CVEs: []string{"CVE-2024-2222"}, Issued: at(2 * 24 * time.Hour)}
	undated := Update{Name: "bash", Security: true, Severity: SeverityImportant}
	plain := Update{Name: "tzdata"}
	tests := []struct {
		name string
		sel  Selection
		u    Update
		why  string // "" = selected
	}{
		{"min-severity keeps critical", Selection{MinSeverity: "important"}, crit, ""},
		{"min-severity drops moderate", Selection{MinSeverity: "important"}, mod, "moderate is below --min-severity important"},
		{"min-severity drops no severity", Selection{MinSeverity: "low"}, plain, "no severity is below --min-severity low"},
		{"cve picks the fix", Selection{CVEs: []string{"cve-2023-9999"}}, crit, ""},
		{"cve drops others", Selection{CVEs: []string{"CVE-2023-9999"}}, mod, "fixes none of the --cve ids"},
		{"known-exploited keeps KEV", Selection{KnownExploited: true}, crit, ""},
		{"known-exploited drops others", Selection{KnownExploited: true}, mod, "fixes no known-exploited CVE (--known-exploited)"},
		{"min-age keeps old", Selection{MinAge: 7 * 24 * time.Hour, Now: now}, crit, ""},
		{"min-age holds young", Selection{MinAge: 7 * 24 * time.Hour, Now: now}, mod, "issued 2d ago, younger than --min-age 7d"},
		{"min-age holds undated", Selection{MinAge: 36 * time.Hour, Now: now}, undated, "no issue date, so its age is unknown (--min-age 36h0m0s)"},
		{"combines with security-only", Selection{SecurityOnly: true, MinSeverity: "low"}, plain, "not a security update (--security-only)"},
		{"combines with exclude", Selection{MinSeverity: "low", Exclude: []string{"openssl"}}, crit, "matches an --exclude pattern"},
		{"all conditions hold", Selection{SecurityOnly: true, MinSeverity: "critical", CVEs: []string{"CVE-2024-1111"}, KnownExploited: true, MinAge: 24 * time.Hour, Now: now}, crit, ""},
	}
	for _, tt := range tests {
		if got := tt.sel.HeldBack(tt.u); got != tt.why {
			t.Errorf("%s: HeldBack(%s) = %q, want %q", tt.name, tt.u.Name, got, tt.why)
		}
		if tt.sel.Match(tt.u) != (tt.why == "") {
			t.Errorf("%s: Match disagrees with HeldBack", tt.name)
		}
		if tt.sel.FullUpgrade() {
			t.Errorf("%s: a policy selection must not use the host-wide upgrade", tt.name)
		}
	}
}

func TestValidatePolicy(t *testing.T) {
	for _, bad := range []Selection{{MinSeverity: "severe"}, {MinSeverity: "unknown"}, {CVEs: []string{"CVE-24-1"}}, {CVEs: []string{"2024-3094"}}, {MinAge: -time.Hour}} {
		var pe *PolicyError
		if err := bad.ValidatePolicy(); !errors.As(err, &pe) {
			t.Errorf("%+v: want a PolicyError, got %v", bad, err)
		}
	}
	if err := (Selection{MinSeverity: "moderate", CVEs: []string{"CVE-2024-3094", "CVE-2021-44228"}, MinAge: time.Hour}).ValidatePolicy(); err != nil {
		t.Fatal(err)
	}
}
