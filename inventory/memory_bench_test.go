package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Benchmarks of what a loaded inventory keeps per host. retained-B/host is
// the live heap Load's result holds; alloc-B/host is everything Load
// allocated on the way (the peak a big inventory needs is between them).
// Run with: go test -run '^$' -bench InventoryMemory -benchtime 1x ./inventory/

const benchHosts = 100_000

func BenchmarkInventoryMemoryList(b *testing.B) {
	var sb strings.Builder
	for i := range benchHosts {
		fmt.Fprintf(&sb, "host%06d.example.com\n", i)
	}
	benchmarkLoad(b, "hosts.txt", sb.String(), nil)
}

func BenchmarkInventoryMemoryYAML(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("defaults:\n  user: deploy\n  ssh_key: id_ed25519\n  connect_timeout: 20s\n  vars: {site: ams}\ngroups:\n")
	for g := range benchHosts / 1000 {
		fmt.Fprintf(&sb, "  rack%03d: [", g)
		for i := range 1000 {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "h%06d", g*1000+i)
		}
		sb.WriteString("]\n")
	}
	sb.WriteString("  web: [rack000, rack001]\nhosts:\n")
	for i := range benchHosts {
		fmt.Fprintf(&sb, "  - name: h%06d\n    address: 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
	}
	benchmarkLoad(b, "inventory.yaml", sb.String(), map[string]string{"id_ed25519": "key"})
}

func BenchmarkInventoryMemoryINI(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[all:vars]\nansible_user=deploy\n")
	for g := range benchHosts / 1000 {
		fmt.Fprintf(&sb, "[rack%03d]\n", g)
		for i := range 1000 {
			fmt.Fprintf(&sb, "h%06d ansible_host=10.%d.%d.%d\n", g*1000+i, i>>16&255, i>>8&255, i&255)
		}
	}
	benchmarkLoad(b, "hosts.ini", sb.String(), nil)
}

func benchmarkLoad(b *testing.B, name, content string, files map[string]string) {
	dir := b.TempDir()
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		b.Fatal(err)
	}
	opts := LoadOptions{Home: dir, DefaultUser: "bench", Getenv: func(string) string { return "" }}
	var retained, allocated uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		inv, err := LoadInventory(p, opts)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if len(inv.Hosts) != benchHosts {
			b.Fatalf("loaded %d hosts, want %d", len(inv.Hosts), benchHosts)
		}
		retained = after.HeapAlloc - before.HeapAlloc
		allocated = after.TotalAlloc - before.TotalAlloc
		runtime.KeepAlive(inv)
	}
	b.ReportMetric(float64(retained)/benchHosts, "retained-B/host")
	b.ReportMetric(float64(allocated)/benchHosts, "alloc-B/host")
}
