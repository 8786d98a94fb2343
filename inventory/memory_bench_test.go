package inventory

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
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
	benchmarkLoad(b, "hosts.txt", listInventory(benchHosts), nil)
}

func BenchmarkInventoryMemoryYAML(b *testing.B) {
	benchmarkLoad(b, "inventory.yaml", yamlInventory(benchHosts), map[string]string{"id_ed25519": "key"})
}

// listInventory is a plain list of n hosts.
func listInventory(n int) string {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "host%06d.example.com\n", i)
	}
	return sb.String()
}

// yamlInventory is a patchrun inventory of n hosts (a multiple of 1000) in
// racks of 1000, with defaults and a key file named id_ed25519.
func yamlInventory(n int) string {
	var sb strings.Builder
	sb.WriteString("defaults:\n  user: deploy\n  ssh_key: id_ed25519\n  connect_timeout: 20s\n  vars: {site: ams}\ngroups:\n")
	for g := range n / 1000 {
		fmt.Fprintf(&sb, "  rack%03d: [", g)
		for i := range 1000 {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "h%06d", g*1000+i)
		}
		sb.WriteString("]\n")
	}
	sb.WriteString("  web: [rack000]\nhosts:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - name: h%06d\n    address: 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
	}
	return sb.String()
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
	var m loadMemory
	for b.Loop() {
		m = measureLoad(b, p, opts, benchHosts)
	}
	b.ReportMetric(m.retained, "retained-B/host")
	b.ReportMetric(m.allocated, "alloc-B/host")
}

// loadMemory is what one Load cost, per host.
type loadMemory struct{ retained, allocated float64 }

// measureLoad loads p, which must hold n hosts, and measures the heap.
func measureLoad(tb testing.TB, p string, opts LoadOptions, n int) loadMemory {
	tb.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	inv, err := LoadInventory(p, opts)
	if err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(inv.Hosts) != n {
		tb.Fatalf("loaded %d hosts, want %d", len(inv.Hosts), n)
	}
	runtime.KeepAlive(inv)
	return loadMemory{
		retained:  float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n),
		allocated: float64(after.TotalAlloc-before.TotalAlloc) / float64(n),
	}
}

// Hosts loaded from one file share what they have in common instead of
// each carrying a copy: settings blocks, group lists and vars.
func TestHostsShareCommonData(t *testing.T) {
	f := newFixture(t)
	f.write("id", "key", 0o600)
	inv := f.mustLoad("inventory.yaml", `defaults:
  ssh_key: id
  vars: {site: ams}
groups:
  web: [a, b]
hosts: [a, b, {name: w1, transport: winrm}, {name: w2, transport: winrm}]
`)
	a, b := hostByName(t, inv.Hosts, "a"), hostByName(t, inv.Hosts, "b")
	w1, w2 := hostByName(t, inv.Hosts, "w1"), hostByName(t, inv.Hosts, "w2")
	switch {
	case a.SSH != b.SSH:
		t.Error("a and b carry separate copies of the same SSH settings")
	case w1.WinRM != w2.WinRM:
		t.Error("w1 and w2 carry separate copies of the same WinRM settings")
	case &a.Groups[0] != &b.Groups[0]:
		t.Error("a and b carry separate copies of the same group list")
	case reflect.ValueOf(a.Vars).UnsafePointer() != reflect.ValueOf(w1.Vars).UnsafePointer():
		t.Error("hosts carry separate copies of the default vars")
	}
}

// A loaded inventory keeps well under 400 bytes per host (a plain list
// kept 590 before settings, vars and sources were shared), and loading a
// YAML one allocates under 4.5 KB per host (5.2 KB when the file was parsed
// twice, once to tell its flavour): a million hosts must fit a modest machine.
func TestLoadMemoryPerHost(t *testing.T) {
	const n = 10_000
	f := newFixture(t)
	f.write("id_ed25519", "key", 0o600)
	list := measureLoad(t, f.write("hosts.txt", listInventory(n), 0o600), f.opts(), n)
	if list.retained > 400 {
		t.Errorf("a loaded list keeps %.0f bytes per host, want at most 400", list.retained)
	}
	yml := measureLoad(t, f.write("inventory.yaml", yamlInventory(n), 0o600), f.opts(), n)
	if yml.retained > 400 {
		t.Errorf("a loaded YAML inventory keeps %.0f bytes per host, want at most 400", yml.retained)
	}
	if yml.allocated > 4500 {
		t.Errorf("loading a YAML inventory allocates %.0f bytes per host, want at most 4500", yml.allocated)
	}
}
