package ssh

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/patchrun/patchrun/transport"
)

// fleetHostKey is host i's key, the same in every process that asks.
func fleetHostKey(t testing.TB, i int, variant string) gossh.PublicKey {
	t.Helper()
	seed := sha256.Sum256([]byte(fmt.Sprintf("host-%d-%s", i, variant)))
	pub, err := gossh.NewPublicKey(ed25519.NewKeyFromSeed(seed[:]).Public())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func fleetHostName(i int) string { return fmt.Sprintf("[10.0.%d.%d]:2222", i/250, i%250+1) }

// acceptFleet meets hosts [0, n) under accept-new, as a run's handshakes
// would, from several goroutines.
func acceptFleet(t testing.TB, kh *KnownHosts, n int) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = kh.callback(fleetHostName(i), &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 22}, fleetHostKey(t, i, "real"))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// linesPerHost counts the known_hosts lines for each host name.
func linesPerHost(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if host, _, ok := strings.Cut(sc.Text(), " "); ok {
			count[host]++
		}
	}
	return count
}

func checkOneLinePerHost(t *testing.T, path string, n int) {
	t.Helper()
	count := linesPerHost(t, path)
	for i := range n {
		if c := count[fleetHostName(i)]; c != 1 {
			t.Errorf("%s has %d lines in known_hosts, want exactly 1", fleetHostName(i), c)
		}
	}
	if len(count) != n {
		t.Errorf("known_hosts names %d hosts, want %d", len(count), n)
	}
}

// Two runs (two processes, each with its own view of the file) meeting the
// same new hosts: each host is recorded once.
func TestAcceptNewTwoDatabasesRecordOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_hosts")
	a := openKnownHosts(t, path, PolicyAcceptNew)
	b := openKnownHosts(t, path, PolicyAcceptNew)

	// One after the other: b's view is stale, but b must not add a second
	// line for a host a has just recorded.
	for _, kh := range []*KnownHosts{a, b} {
		if err := kh.callback(fleetHostName(0), &net.TCPAddr{}, fleetHostKey(t, 0, "real")); err != nil {
			t.Fatal(err)
		}
	}
	checkOneLinePerHost(t, path, 1)

	// At the same time, for many hosts.
	const n = 120
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, kh := range []*KnownHosts{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = acceptFleet(t, kh, n)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	checkOneLinePerHost(t, path, n)
}

// If another process recorded a different key for the host meanwhile, the
// host's key has changed as far as this run can tell: refused, not added as
// a second accepted key.
func TestAcceptNewRacingDifferentKeyIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_hosts")
	a := openKnownHosts(t, path, PolicyAcceptNew)
	b := openKnownHosts(t, path, PolicyAcceptNew)
	if err := a.callback(fleetHostName(0), &net.TCPAddr{}, fleetHostKey(t, 0, "real")); err != nil {
		t.Fatal(err)
	}
	err := b.callback(fleetHostName(0), &net.TCPAddr{}, fleetHostKey(t, 0, "impostor"))
	if !errors.Is(err, transport.ErrHostKey) || !strings.Contains(err.Error(), "CHANGED") {
		t.Fatalf("a different key recorded by another process: err %v, want a changed-key error", err)
	}
	checkOneLinePerHost(t, path, 1)
}

// The same with a real second process: the test binary run again as a
// helper that accepts the same fleet. Both have read the (empty) file
// before either records anything.
func TestAcceptNewTwoProcessesRecordOnce(t *testing.T) {
	if os.Getenv("PATCHRUN_TEST_KNOWN_HOSTS_HELPER") != "" {
		return
	}
	const n = 120
	path := filepath.Join(t.TempDir(), "known_hosts")
	own := openKnownHosts(t, path, PolicyAcceptNew)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKnownHostsHelperProcess$")
	cmd.Env = append(os.Environ(), "PATCHRUN_TEST_KNOWN_HOSTS_HELPER="+path, "PATCHRUN_TEST_KNOWN_HOSTS_N="+strconv.Itoa(n))
	start, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	if ready, err := out.ReadString('\n'); ready != "ready\n" {
		t.Fatalf("helper process: %q %v\n%s", ready, err, stderr.String())
	}
	start.Close()
	ownErr := acceptFleet(t, own, n)
	rest, _ := io.ReadAll(out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v\n%s%s", err, rest, stderr.String())
	}
	if ownErr != nil {
		t.Fatal(ownErr)
	}
	checkOneLinePerHost(t, path, n)
}

// TestKnownHostsHelperProcess is the second process of the test above; it
// does nothing when run normally. It opens the file, says "ready", and
// starts when its stdin closes.
func TestKnownHostsHelperProcess(t *testing.T) {
	path := os.Getenv("PATCHRUN_TEST_KNOWN_HOSTS_HELPER")
	if path == "" {
		t.Skip("helper for TestAcceptNewTwoProcessesRecordOnce")
	}
	n, err := strconv.Atoi(os.Getenv("PATCHRUN_TEST_KNOWN_HOSTS_N"))
	if err != nil {
		t.Fatal(err)
	}
	kh := openKnownHosts(t, path, PolicyAcceptNew)
	fmt.Println("ready")
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		t.Fatal(err)
	}
	if err := acceptFleet(t, kh, n); err != nil {
		t.Fatal(err)
	}
}

// A line written by a tool that takes no lock (ssh-keyscan >> known_hosts)
// between two of our appends is seen by the next one.
func TestAcceptNewSeesUnlockedWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_hosts")
	kh := openKnownHosts(t, path, PolicyAcceptNew)
	if err := kh.callback(fleetHostName(0), &net.TCPAddr{}, fleetHostKey(t, 0, "real")); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(knownhosts.Line([]string{fleetHostName(1)}, fleetHostKey(t, 1, "real")) + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = kh.callback(fleetHostName(1), &net.TCPAddr{}, fleetHostKey(t, 1, "impostor"))
	if !errors.Is(err, transport.ErrHostKey) || !strings.Contains(err.Error(), "CHANGED") || !strings.Contains(err.Error(), path+":2") {
		t.Fatalf("key differing from a line another tool wrote: err %v, want a changed-key error naming %s:2", err, path)
	}
	checkOneLinePerHost(t, path, 2)
}

// Hosts recorded in this run are checked and asked for the key type we
// hold without reading the file again; a different key names the line.
func TestAcceptNewRecordedHostsWithoutRereading(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known_hosts")
	kh := openKnownHosts(t, path, PolicyAcceptNew)
	for i := range 3 {
		if err := kh.callback(fleetHostName(i), &net.TCPAddr{}, fleetHostKey(t, i, "real")); err != nil {
			t.Fatal(err)
		}
	}
	if got := kh.algorithmsFor(fleetHostName(1)); !slices.Equal(got, []string{gossh.KeyAlgoED25519}) {
		t.Errorf("algorithms for a host recorded this run: %v, want its key type", got)
	}
	if err := kh.callback(fleetHostName(1), &net.TCPAddr{}, fleetHostKey(t, 1, "real")); err != nil {
		t.Errorf("recorded host, same key: %v", err)
	}
	err := kh.callback(fleetHostName(1), &net.TCPAddr{}, fleetHostKey(t, 1, "impostor"))
	if !errors.Is(err, transport.ErrHostKey) || !strings.Contains(err.Error(), path+":2") {
		t.Errorf("recorded host, other key: err %v, want a changed-key error naming %s:2", err, path)
	}
	checkOneLinePerHost(t, path, 3)
}
