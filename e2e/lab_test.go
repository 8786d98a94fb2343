package e2e

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// labName keeps the tests' lab apart from one a person may have up;
// PATCHRUN_LAB_NAME lets two test runs use two labs on one machine.
var labName = cmp.Or(os.Getenv("PATCHRUN_LAB_NAME"), "prlabe2e")

// lab drives lab/lab for one test run. It belongs to the test goroutine.
type lab struct {
	script   string // lab/lab
	state    string // the lab's state dir
	downtime string // seconds a rebooting host stays down
	hosts    []labHost
	down     bool
}

type labHost struct{ name, ip string }

func newLab(t *testing.T) *lab {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "lab", "lab"))
	if err != nil {
		t.Fatal(err)
	}
	return &lab{
		script:   script,
		state:    "/var/lib/patchrun-lab/" + labName,
		downtime: "3",
	}
}

func (l *lab) command(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, l.script, args...)
	c.Env = append(os.Environ(), "LAB_NAME="+labName, "LAB_STATE="+l.state, "LAB_DOWNTIME="+l.downtime)
	return c
}

// run runs a lab command and fails the test if it fails; it returns stdout.
func (l *lab) run(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	c := l.command(ctx, args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("lab %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// up brings n hosts up (tearing down a stale lab of the same name first)
// and registers the teardown.
func (l *lab) up(t *testing.T, n int) {
	t.Helper()
	if _, err := os.Stat(l.state); err == nil {
		t.Logf("a stale %s lab is up; tearing it down first", labName)
		l.run(t, "down")
	}
	t.Cleanup(func() {
		if !l.down {
			l.teardown(t)
		}
	})
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var out bytes.Buffer
	c := l.command(ctx, "up", "-n", fmt.Sprint(n))
	c.Stdout, c.Stderr = &out, &out
	err := c.Run()
	t.Logf("lab up -n %d:\n%s", n, out.String())
	if err != nil {
		t.Fatalf("lab up: %v", err)
	}
	t.Logf("TIMING lab up, %d hosts (base root from cache or built): %s", n, time.Since(start).Round(time.Millisecond))
	data, err := os.ReadFile(filepath.Join(l.state, "hosts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("hosts.txt line %q", line)
		}
		l.hosts = append(l.hosts, labHost{name: f[0], ip: f[1]})
	}
	if len(l.hosts) != n {
		t.Fatalf("lab has %d hosts, want %d", len(l.hosts), n)
	}
}

// teardown runs `lab down` and then checks independently of the script
// that nothing of the lab is left on the machine.
func (l *lab) teardown(t *testing.T) {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := l.command(ctx, "down").CombinedOutput()
	l.down = true
	t.Logf("lab down (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Errorf("lab down: %v", err)
	}
	for _, problem := range leftovers(l.state) {
		t.Errorf("left behind after lab down: %s", problem)
	}
}

// leftovers lists what of the lab is still on the machine: network
// namespaces, mounts (in this mount namespace), processes naming the state
// dir, and the state dir itself.
func leftovers(state string) []string {
	var left []string
	if out, err := exec.Command("ip", "netns", "list").Output(); err != nil {
		left = append(left, fmt.Sprintf("ip netns list: %v", err))
	} else {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, labName+"-") {
				left = append(left, "netns "+strings.Fields(line)[0])
			}
		}
	}
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(mi), "\n") {
			if strings.Contains(line, " "+state) {
				left = append(left, "mount "+line)
			}
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cl, err := os.ReadFile(p)
		if err == nil && bytes.Contains(cl, []byte(state)) {
			left = append(left, "process "+p+": "+string(bytes.ReplaceAll(cl, []byte{0}, []byte{' '})))
		}
	}
	if _, err := os.Stat(state); err == nil {
		left = append(left, "state dir "+state)
	}
	return left
}

// exec runs a shell command inside a host (no SSH) and returns its stdout.
func (l *lab) exec(t *testing.T, host, shell string) string {
	t.Helper()
	return l.run(t, "exec", host, "sh", "-c", shell)
}

func (l *lab) fault(t *testing.T, host string, args ...string) {
	t.Helper()
	l.run(t, append([]string{"fault", host}, args...)...)
}

// bootID is the boot id the lab gave the host's current boot.
func (l *lab) bootID(t *testing.T, host string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.state, "hosts", host, "boot_id"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// bootLog returns the boot log's events after byte offset from, and its size.
func (l *lab) bootLog(t *testing.T, from int) ([]bootEvent, int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(l.state, "boots.log"))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := parseBootLog(string(b[from:]))
	if err != nil {
		t.Fatal(err)
	}
	return evs, len(b)
}

func (l *lab) inventory() string { return filepath.Join(l.state, "inventory.yaml") }

func (l *lab) names() []string {
	var n []string
	for _, h := range l.hosts {
		n = append(n, h.name)
	}
	return n
}
