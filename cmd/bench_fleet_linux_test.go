package cmd

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
)

// BenchmarkFleet runs the patchrun binary as a child process against a
// simulated fleet (in this process) and reports what the child used: peak
// RSS (getrusage maxrss), peak open file descriptors (sampled from
// /proc/PID/fd every 5 ms) and wall time. The fleet's own memory is not
// counted, because it lives in the benchmark process.
//
//	go test -run '^$' -bench Fleet -benchtime 1x ./cmd
//	PATCHRUN_BENCH_HOSTS=5000 PATCHRUN_BENCH_BIN=/path/to/patchrun go test -run '^$' -bench Fleet -benchtime 1x -timeout 60m ./cmd
//
// PATCHRUN_BENCH_HOSTS sizes the fleet (default 500); PATCHRUN_BENCH_BIN
// names a prebuilt binary (default: build this checkout), so two builds can
// be compared on the same fleet. Each run gets a fresh state directory.
func BenchmarkFleet(b *testing.B) {
	hosts := 500
	if s := os.Getenv("PATCHRUN_BENCH_HOSTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("PATCHRUN_BENCH_HOSTS=%q: want a host count", s)
		}
		hosts = n
	}
	bin := os.Getenv("PATCHRUN_BENCH_BIN")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "patchrun")
		build := exec.Command("go", "build", "-o", bin, "..")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			b.Fatalf("go build: %v", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inv := benchFleet(ctx, b, fleet.Config{Count: hosts, Seed: 1})
	const forks, batch = 200, 100
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"scan", []string{"scan"}},
		{"patch", []string{"patch", "--batch", strconv.Itoa(batch), "--max-failures", "100%"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				args := append(tc.args, "-i", inv, "--forks", strconv.Itoa(forks), "-o", "json",
					"--no-ssh-config", "--no-progress", "--state-dir", b.TempDir())
				rss, fds, wall := runMeasured(b, bin, args)
				b.ReportMetric(rss, "rss_MB")
				b.ReportMetric(float64(fds), "fds")
				b.ReportMetric(wall.Seconds(), "wall_s")
			}
		})
	}
}

// runMeasured runs bin with args, its stdout discarded, and returns its peak
// RSS in MB, the most file descriptors it had open at one sample, and how
// long it ran. A binary that does not know --state-dir is run without it.
func runMeasured(b *testing.B, bin string, args []string) (rssMB float64, peakFDs int, wall time.Duration) {
	b.Helper()
	if os.Getenv("PATCHRUN_BENCH_NO_STATE_DIR") != "" {
		args = args[:len(args)-2]
	}
	c := exec.Command(bin, args...)
	c.Stdout = io.Discard
	stderr, err := os.Create(filepath.Join(b.TempDir(), "stderr"))
	if err != nil {
		b.Fatal(err)
	}
	defer stderr.Close()
	c.Stderr = stderr
	start := time.Now()
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	var peak atomic.Int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		dir := "/proc/" + strconv.Itoa(c.Process.Pid) + "/fd"
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if ents, err := os.ReadDir(dir); err == nil && int64(len(ents)) > peak.Load() {
				peak.Store(int64(len(ents)))
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	err = c.Wait()
	wall = time.Since(start)
	close(done)
	<-sampled
	if err != nil {
		msg, _ := os.ReadFile(stderr.Name())
		b.Fatalf("%v: %v\n%s", args, err, tailBytes(msg, 2000))
	}
	ru := c.ProcessState.SysUsage().(*syscall.Rusage)
	return float64(ru.Maxrss) / 1024, int(peak.Load()), wall // Maxrss is in KiB on Linux
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
