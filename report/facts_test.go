package report

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/patchrun/patchrun/patch"
)

func TestNewFactsIsUTCAndBounded(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	f := NewFacts(patch.Facts{
		OSName:      strings.Repeat("é", 500),
		LastBoot:    time.Date(2026, 12, 1, 9, 0, 0, 500, cet),
		LastUpdated: time.Date(2026, 11, 30, 23, 30, 0, 0, cet),
		Uptime:      36*time.Hour + 900*time.Millisecond,
		Addresses:   make([]string, 100),
	}, time.Date(2026, 12, 6, 1, 0, 0, 0, cet))
	if got, want := f.LastBoot.Format(time.RFC3339Nano), "2026-12-01T08:00:00Z"; got != want {
		t.Errorf("last_boot %s, want %s", got, want)
	}
	if got, want := f.LastUpdated.Format(time.RFC3339), "2026-11-30T22:30:00Z"; got != want {
		t.Errorf("last_updated %s, want %s", got, want)
	}
	if f.GatheredAt.Location() != time.UTC {
		t.Errorf("gathered_at %v not UTC", f.GatheredAt)
	}
	if f.UptimeSeconds != 129600 {
		t.Errorf("uptime %d, want 129600", f.UptimeSeconds)
	}
	if len(f.OSName) > maxFactText+len("…") || !utf8.ValidString(f.OSName) {
		t.Errorf("os_name not bounded at a rune boundary: %d bytes", len(f.OSName))
	}
	if len(f.Addresses) != maxFactAddresses {
		t.Errorf("%d addresses kept, want %d", len(f.Addresses), maxFactAddresses)
	}
}
