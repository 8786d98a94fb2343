package winsim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/internal/winsim"
)

func TestStartFleet(t *testing.T) {
	if _, err := winsim.StartFleet(context.Background(), winsim.FleetConfig{}); err == nil {
		t.Errorf("a fleet of 0 hosts should be refused")
	}
	f, err := winsim.StartFleet(context.Background(), winsim.FleetConfig{Count: 4, Faults: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	hosts := f.Hosts()
	if len(hosts) != 4 || hosts[0].Name() != "win-001" || hosts[3].Name() != "win-004" {
		t.Fatalf("hosts %v", hosts)
	}
	ports := map[int]bool{}
	for _, h := range hosts {
		ports[h.Port()] = true
		dialSim(t, h) // fails the test unless the host answers
	}
	if len(ports) != 4 {
		t.Errorf("hosts share ports: %v", ports)
	}
	if s := f.FaultSummary(); !strings.Contains(s, "win-002 fails one update with 0x80240016") {
		t.Errorf("fault summary %q", s)
	}
}
