package cmd

import (
	"context"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/patchrun/patchrun/internal/fleet"
)

// BenchmarkScan200Forks50 measures `patchrun scan --forks 50` over 200
// simulated hosts through the whole CLI path: inventory load, real SSH
// handshakes (known_hosts verified), probe, refresh, scan, JSON rendering.
// The fleet shares the machine's cores with the client, as in the lab.
//
//	go test -run '^$' -bench Scan200 -benchtime 5x ./cmd
func BenchmarkScan200Forks50(b *testing.B) {
	const hosts = 200
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inv := benchFleet(ctx, b, fleet.Config{Count: hosts})
	args := []string{"scan", "-i", inv, "--forks", "50", "-o", "json", "--no-ssh-config"}
	streams := Streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code := Run(ctx, args, streams); code != ExitOK {
			b.Fatalf("scan exit code %d", code)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/hosts, "alloc-B/host")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/hosts, "ms/host")
}

// benchFleet starts a simulated fleet for the benchmark's duration and
// returns its inventory's path.
func benchFleet(ctx context.Context, b *testing.B, cfg fleet.Config) string {
	b.Helper()
	fl, err := fleet.Start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { fl.Close() })
	inv, err := fl.WriteInventory(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return inv
}
