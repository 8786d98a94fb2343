package ssh

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	gossh "golang.org/x/crypto/ssh"

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
// helper that accepts the same fleet.
func TestAcceptNewTwoProcessesRecordOnce(t *testing.T) {
	if os.Getenv("PATCHRUN_TEST_KNOWN_HOSTS_HELPER") != "" {
		return
	}
	const n = 120
	path := filepath.Join(t.TempDir(), "known_hosts")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKnownHostsHelperProcess$")
	cmd.Env = append(os.Environ(), "PATCHRUN_TEST_KNOWN_HOSTS_HELPER="+path, "PATCHRUN_TEST_KNOWN_HOSTS_N="+strconv.Itoa(n))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ownErr := acceptFleet(t, openKnownHosts(t, path, PolicyAcceptNew), n)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v\n%s", err, out.String())
	}
	if ownErr != nil {
		t.Fatal(ownErr)
	}
	checkOneLinePerHost(t, path, n)
}

// TestKnownHostsHelperProcess is the second process of the test above; it
// does nothing when run normally.
func TestKnownHostsHelperProcess(t *testing.T) {
	path := os.Getenv("PATCHRUN_TEST_KNOWN_HOSTS_HELPER")
	if path == "" {
		t.Skip("helper for TestAcceptNewTwoProcessesRecordOnce")
	}
	n, err := strconv.Atoi(os.Getenv("PATCHRUN_TEST_KNOWN_HOSTS_N"))
	if err != nil {
		t.Fatal(err)
	}
	if err := acceptFleet(t, openKnownHosts(t, path, PolicyAcceptNew), n); err != nil {
		t.Fatal(err)
	}
}
