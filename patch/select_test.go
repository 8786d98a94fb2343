package patch

import (
	"reflect"
	"testing"
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
