package fleet

import (
	"slices"
	"strings"
	"testing"
)

func TestHealthCheckFollowsTheHostsFaults(t *testing.T) {
	f := startFleet(t, Config{Hosts: []HostSpec{{Name: "web1", Distro: Debian12}, {Name: "web2", Distro: Rocky9}}})
	web1, web2 := f.Host("web1"), f.Host("web2")
	if out, _, code := runLocal(t, web1, "health-check"); code != 0 || out != "web1: healthy\n" {
		t.Errorf("healthy host: exit %d, %q", code, out)
	}
	web1.UpdateFaults(func(fl *Faults) { fl.UnhealthyChecks = 2 })
	for i, want := range []int{1, 1, 0} {
		if _, _, code := runLocal(t, web1, "health-check"); code != want {
			t.Errorf("check %d after UnhealthyChecks 2: exit %d, want %d", i+1, code, want)
		}
	}
	web2.SetFaults(Faults{Unhealthy: true})
	for range 3 {
		if _, errOut, code := runLocal(t, web2, "health-check"); code != 1 || !strings.Contains(errOut, "unhealthy") {
			t.Errorf("unhealthy host: exit %d, stderr %q", code, errOut)
		}
	}
	if web1.HealthChecks() != 4 || web2.HealthChecks() != 3 {
		t.Errorf("health checks counted %d and %d, want 4 and 3", web1.HealthChecks(), web2.HealthChecks())
	}
}

func TestHookRecordsAndFailsOnDemand(t *testing.T) {
	f := startFleet(t, Config{Count: 1})
	h := f.SimHosts()[0]
	h.SetFaults(Faults{FailHook: "undrain"})
	if out, _, code := runLocal(t, h, "hook drain lb1"); code != 0 || !strings.Contains(out, "hook drain ran") {
		t.Errorf("hook drain: exit %d, %q", code, out)
	}
	if _, errOut, code := runLocal(t, h, "hook undrain lb1"); code != 1 || !strings.Contains(errOut, "undrain failed") {
		t.Errorf("failing hook: exit %d, stderr %q", code, errOut)
	}
	if got := h.Hooks(); !slices.Equal(got, []string{"drain lb1", "undrain lb1"}) {
		t.Errorf("Hooks() = %q", got)
	}
}
