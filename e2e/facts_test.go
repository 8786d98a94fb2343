package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// testFacts runs `facts` against the real hosts right after the
// security-only patch: each reports its OS, this machine's architecture and
// kernel (namespaces share it), a boot in the past, its lab address, and a
// last install no older than that patch.
func testFacts(t *testing.T, l *lab, p patchrun) {
	arch, err := exec.Command("uname", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep, code := p.run(t, 2*time.Minute, "facts")
	took := time.Since(start)
	if code != 0 || rep.Command != "facts" {
		t.Fatalf("facts exit %d, command %q", code, rep.Command)
	}
	t.Logf("facts on %d hosts took %v", len(l.hosts), took)
	for _, lh := range l.hosts {
		h := rep.host(t, lh.name)
		f := h.Facts
		if h.Status != "ok" || f == nil {
			t.Errorf("%s: status %q facts %v (%s)", lh.name, h.Status, f, h.Error)
			continue
		}
		if f.OSName == "" || f.Kernel == "" || f.Arch != strings.TrimSpace(string(arch)) {
			t.Errorf("%s: os %q kernel %q arch %q", lh.name, f.OSName, f.Kernel, f.Arch)
		}
		if f.UptimeSeconds <= 0 || f.LastBoot.IsZero() || !f.LastBoot.Before(f.GatheredAt) {
			t.Errorf("%s: uptime %d, last boot %v, gathered %v", lh.name, f.UptimeSeconds, f.LastBoot, f.GatheredAt)
		}
		found := false
		for _, a := range f.Addresses {
			// CIDR from ip(8); the bare address from hostname -I on a host
			// without iproute2 (the lab's).
			found = found || a == lh.ip || strings.HasPrefix(a, lh.ip+"/")
		}
		if !found {
			t.Errorf("%s: addresses %q lack %s", lh.name, f.Addresses, lh.ip)
		}
		// The security-only patch just installed labsec with dpkg.
		if f.LastUpdated.IsZero() || time.Since(f.LastUpdated) > 30*time.Minute {
			t.Errorf("%s: last updated %v, want the security-only patch's install", lh.name, f.LastUpdated)
		}
		if len(h.Updates) != 0 {
			t.Errorf("%s: facts scanned: %d updates", lh.name, len(h.Updates))
		}
	}
}
