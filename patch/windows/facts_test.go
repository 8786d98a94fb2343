package windows

import (
	"slices"
	"testing"
	"time"
)

// Win32_NetworkAdapterConfiguration gives IPAddress and IPSubnet as
// parallel arrays: a dotted mask for IPv4, a prefix length for IPv6.
func TestAdapterAddresses(t *testing.T) {
	got := adapterAddresses([]string{
		"192.0.2.15/255.255.255.0", "fe80::d1f4:2c3b:8a7e:9f01/64", "2001:db8:5::15/64",
		"127.0.0.1/255.0.0.0", "10.1.2.3/255.0.255.0", "garbage/24", "198.51.100.7/",
	})
	want := []string{"192.0.2.15/24", "2001:db8:5::15/64", "10.1.2.3", "198.51.100.7"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFactsLastHotfixAndUptime(t *testing.T) {
	f := FactsReport{Caption: "Microsoft Windows Server 2019 Standard", Version: "10.0.17763", Build: "17763",
		LastBoot: "2026-12-01T06:00:00.0000000Z", UptimeSeconds: 86400, LastHotfix: "2026-11-20", Arch: "AMD64"}.toFacts()
	if f.OSName != "Microsoft Windows Server 2019 Standard" || f.OSVersion != "10.0.17763" || f.Arch != "AMD64" {
		t.Errorf("facts %+v", f)
	}
	if f.Uptime != 24*time.Hour || !f.LastUpdated.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("uptime %v, last updated %v", f.Uptime, f.LastUpdated)
	}
	if g := (FactsReport{LastHotfix: "", UptimeSeconds: -5}).toFacts(); !g.LastUpdated.IsZero() || g.Uptime != 0 {
		t.Errorf("no hotfix, bad uptime: %+v", g)
	}
}
