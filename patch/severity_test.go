package patch

import (
	"slices"
	"testing"
)

func TestNormalizeSeverity(t *testing.T) {
	for vendor, want := range map[string]string{
		"Critical": "critical", "Important": "important", "Moderate": "moderate", "Low": "low",
		"high": "important", "medium": "moderate", "negligible": "low", "unimportant": "low",
		"high*": "important", "9.8": "critical", "7.5": "important", "4.0": "moderate", "3.1": "low",
		"0.0": "unknown", "": "unknown", "not yet assigned": "unknown", "bogus": "unknown", "11": "unknown",
	} {
		if got := NormalizeSeverity(vendor); got != want {
			t.Errorf("NormalizeSeverity(%q) = %q, want %q", vendor, got, want)
		}
	}
	if !(SeverityRank("critical") > SeverityRank("important") && SeverityRank("low") > SeverityRank("unknown")) {
		t.Error("severity ranks out of order")
	}
}

func TestNormalizeCVEs(t *testing.T) {
	got := NormalizeCVEs([]string{" cve-2024-2 ", "CVE-2023-9", "CVE-2024-2", ""})
	if want := []string{"CVE-2023-9", "CVE-2024-2"}; !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	if NormalizeCVEs(nil) != nil {
		t.Fatal("no CVEs must stay nil (omitted from JSON)")
	}
}
