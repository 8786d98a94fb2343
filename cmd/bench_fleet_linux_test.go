package cmd

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/fleet"
)

// BenchmarkFleet runs the patchrun binary as a child process against a
// simulated fleet (in this process) and reports what the child used: peak
// RSS (the kernel's high-water mark VmHWM, read from /proc/PID/status),
// peak open file descriptors (/proc/PID/fd), both sampled every 5 ms, and
// wall time. The fleet's own memory is not counted, because it lives in
// the benchmark process. (getrusage's maxrss would count it: Go starts a
// child with vfork, and Linux carries the high-water mark of the memory
// the child ran in before exec — the parent's — into the child's.)
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
	var peak, hwmKB atomic.Int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		proc := "/proc/" + strconv.Itoa(c.Process.Pid)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if ents, err := os.ReadDir(proc + "/fd"); err == nil && int64(len(ents)) > peak.Load() {
				peak.Store(int64(len(ents)))
			}
			if kb := vmHWM(proc + "/status"); kb > hwmKB.Load() {
				hwmKB.Store(kb)
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
	return float64(hwmKB.Load()) / 1024, int(peak.Load()), wall
}

// vmHWM is a process's peak resident set in KiB (0 if unreadable: the
// process has exited).
func vmHWM(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

func tailBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
