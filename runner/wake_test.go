package runner

import (
	"context"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/report"
	"github.com/patchrun/patchrun/transport"
)

// patch --wake: an unreachable host with a MAC address is sent one magic
// packet and redialled until it answers (40 s of fake boot here); one
// without a MAC, or one that never answers, ends unreachable.
func TestWakeUnreachableHostsOnce(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			asleep := func(name string) *fakeHost {
				return &fakeHost{name: name, dialErr: transport.ErrUnreachable, pending: []patch.Update{upd("pkg", true, false)}}
			}
			f := newFleet(t, asleep("sleeper"), asleep("nomac"), asleep("dead"))
			plan := realTimePlan(report.CmdPatch, f)
			plan.Wake = enabled
			plan.RebootTimeout = 5 * time.Minute
			mac, _ := net.ParseMAC("52:54:00:00:00:01")
			for i := range plan.Hosts {
				if plan.Hosts[i].Name != "nomac" {
					plan.Hosts[i].MAC = mac
				}
			}
			var woken []string
			deps := f.deps()
			deps.Wake = func(_ context.Context, h inventory.Host) error {
				f.mu.Lock()
				defer f.mu.Unlock()
				woken = append(woken, h.Name)
				if h.Name == "sleeper" {
					fh := f.hosts[h.Name]
					fh.dialErr, fh.afterReboot, fh.downFor, fh.rebootAt = nil, 2, 40*time.Second, time.Now()
				}
				return nil
			}
			start := time.Now()
			rep, err := Run(context.Background(), plan, deps)
			if err != nil {
				t.Fatal(err)
			}
			m := byName(rep)
			if !enabled {
				if len(woken) != 0 || m["sleeper"].Status != report.StatusUnreachable {
					t.Fatalf("without --wake: woken %v, sleeper %s", woken, m["sleeper"].Status)
				}
				return
			}
			if strings.Join(woken, ",") != "sleeper,dead" && strings.Join(woken, ",") != "dead,sleeper" {
				t.Errorf("woken %v, want sleeper and dead once each", woken)
			}
			if s := m["sleeper"]; s.Status != report.StatusOK || len(s.Updates) != 1 || !s.Updates[0].Installed {
				t.Errorf("sleeper: %s %q %+v", s.Status, s.Error, s.Updates)
			}
			if d := m["dead"]; d.Status != report.StatusUnreachable || !strings.Contains(d.Error, "woken with a magic packet to 255.255.255.255:9, no answer within 5m0s") {
				t.Errorf("dead: %s %q", d.Status, d.Error)
			}
			if n := m["nomac"]; n.Status != report.StatusUnreachable || strings.Contains(n.Error, "magic") {
				t.Errorf("nomac: %s %q", n.Status, n.Error)
			}
			if took := time.Since(start); took < 5*time.Minute || took > 6*time.Minute {
				t.Errorf("run took %v; want the dead host's 5m wake wait", took)
			}
		})
	}
}
