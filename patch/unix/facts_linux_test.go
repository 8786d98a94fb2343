//go:build linux

package unix

import (
	"context"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/transport"
)

// The probe really runs in one round trip on this machine and yields facts.
func TestFactsProbeOnThisMachine(t *testing.T) {
	res, err := localShell{}.Run(context.Background(), transport.Command{Line: CmdProbe})
	if err != nil {
		t.Fatal(err)
	}
	p := parseProbe(string(res.Stdout))
	if p.facts.arch == "" || p.facts.uptime <= 0 {
		t.Fatalf("facts %+v from %q", p.facts, res.Stdout)
	}
	if !strings.Contains(string(res.Stdout), markerPrefix+SectionEnd) {
		t.Fatal("the probe did not reach its end marker")
	}
}
