package fleet

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// 200 hosts start, each accepts a connection and greets like sshd, and
// Close leaves no goroutine behind. How fast they start is measured by
// BenchmarkStart200Hosts, not asserted here.
func TestStart200HostsAndCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	f, err := Start(context.Background(), Config{Count: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	hosts := f.Hosts()
	if len(hosts) != 200 {
		t.Fatalf("%d hosts", len(hosts))
	}
	ports := map[int]bool{}
	for _, hi := range hosts {
		ports[hi.Port] = true
		nc, err := net.DialTimeout("tcp", hi.Addr, 2*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", hi.Name, err)
		}
		_ = nc.SetDeadline(time.Now().Add(2 * time.Second))
		banner, err := bufio.NewReader(nc).ReadString('\n')
		nc.Close()
		if err != nil || !strings.HasPrefix(banner, "SSH-2.0-OpenSSH_") {
			t.Fatalf("%s: banner %q err %v", hi.Name, banner, err)
		}
	}
	if len(ports) != 200 {
		t.Errorf("%d distinct ports for 200 hosts", len(ports))
	}
	// A few full sessions, one per distro, and a reboot in flight at Close.
	for _, h := range f.SimHosts()[:4] {
		c, err := dial(t, f, h.Name())
		if err != nil {
			t.Fatal(err)
		}
		if out, _, _, err := runSSH(c, "hostname"); err != nil || out != h.Name()+"\n" {
			t.Errorf("hostname on %s = %q %v", h.Name(), out, err)
		}
		// a background job and a scheduled reboot outlive the session
		_, _, _, _ = runSSH(c, "nohup sleep 100000 >/dev/null 2>&1 </dev/null &")
		_, _, _, _ = runSSH(c, "shutdown -r +100")
		defer c.Close()
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 { // +2: the test's own ssh client readers winding down
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after Close\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		timer := time.NewTimer(5 * time.Millisecond)
		<-timer.C
	}
}

// BenchmarkStart200Hosts measures starting and closing a 200-host fleet
// and the heap each host holds while it runs.
func BenchmarkStart200Hosts(b *testing.B) {
	const n = 200
	var heapPerHost float64
	for b.Loop() {
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		f, err := Start(context.Background(), Config{Count: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		heapPerHost = float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc)) / n
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(heapPerHost/1024, "heap-KiB/host")
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty", Config{}, "no hosts"},
		{"duplicate", Config{Hosts: []HostSpec{{Name: "a", Distro: Debian12}, {Name: "a", Distro: Rocky9}}}, "duplicate host name"},
		{"unknown distro", Config{Hosts: []HostSpec{{Name: "a", Distro: "plan9"}}}, "unknown distro"},
		{"no name", Config{Hosts: []HostSpec{{Distro: Debian12}}}, "has no name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Start(context.Background(), tc.cfg)
			if err == nil {
				f.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestCountSpreadsOverDistros(t *testing.T) {
	f := startFleet(t, Config{Count: 9})
	got := map[Distro]int{}
	for _, h := range f.Hosts() {
		got[h.Distro]++
	}
	if got[Debian12] != 2 || got[Rocky9] != 2 || got[OpenSUSE155] != 2 || got[Ubuntu2404] != 1 || got[Alpine320] != 1 || got[ArchLinux] != 1 {
		t.Errorf("distribution %v", got)
	}
}

// Cancelling Start's context stops the fleet too (Close still joins).
func TestStartContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f, err := Start(ctx, Config{Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	h := f.SimHosts()[0]
	waitFor(t, "shutdown", 5*time.Second, func() bool {
		nc, err := net.DialTimeout("tcp", h.Addr(), time.Second)
		if err == nil {
			nc.Close()
		}
		return err != nil
	})
	f.Close()
}
