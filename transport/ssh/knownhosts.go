package ssh

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/patchrun/patchrun/internal/fsread"
	"github.com/patchrun/patchrun/transport"
)

// Host key policies (the inventory's host_key_policy values).
const (
	PolicyStrict    = "strict"     // unknown or changed key: refuse
	PolicyAcceptNew = "accept-new" // unknown key: record it; changed key: refuse
)

// KnownHosts verifies server keys against one OpenSSH known_hosts file.
//
// Concurrency: one KnownHosts is meant to be shared by every Dial that uses
// the same file, from any number of goroutines. mu serialises every check
// with every append, so parallel first connections to the same host (a jump
// host shared by a whole fleet, say) under accept-new record it exactly
// once, and a dial after an append sees the new line. Other processes (or
// other KnownHosts on the same file) are kept consistent through a lock on
// the file: an append holds it exclusively and, if the file changed since
// it was last read, re-reads it before adding a line, so a host another
// run has just recorded is not recorded twice, and one recorded meanwhile
// with a different key is refused as changed; reads hold it shared, so they
// never see half a line.
type KnownHosts struct {
	path   string
	policy string
	// probe is a throwaway key no host has; checking it makes the library
	// list every key the file holds for a host (see algorithmsFor).
	probe gossh.PublicKey

	mu    sync.Mutex
	check gossh.HostKeyCallback // the file as last read; guarded by mu
	// recorded holds the keys this KnownHosts appended since the file was
	// last read, by host as written in the file, so recording a host costs
	// one append instead of a re-read of the whole file (which made a first
	// run over n new hosts O(n^2)); guarded by mu.
	recorded map[string][]gossh.PublicKey
	// seen is the file as last read plus our appends since; a file that
	// differs from it under the lock was written by someone else and is
	// read again. nil means unknown: read it again. Guarded by mu.
	seen fs.FileInfo
}

// OpenKnownHosts reads the known_hosts file at path under policy
// (PolicyStrict when ""). A missing file is an empty one: under strict every
// host is then unknown; under accept-new the file is created on first use.
func OpenKnownHosts(path, policy string) (*KnownHosts, error) {
	if path == "" {
		return nil, errors.New("known_hosts: no file given")
	}
	switch policy {
	case "":
		policy = PolicyStrict
	case PolicyStrict, PolicyAcceptNew:
	default:
		return nil, fmt.Errorf("known_hosts: unknown host key policy %q (want %q or %q)", policy, PolicyStrict, PolicyAcceptNew)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: probe key: %w", err)
	}
	probe, err := gossh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("known_hosts: probe key: %w", err)
	}
	k := &KnownHosts{path: path, policy: policy, probe: probe}
	if err := k.reloadLocked(); err != nil {
		return nil, err
	}
	return k, nil
}

// Path is the known_hosts file.
func (k *KnownHosts) Path() string { return k.path }

// Policy is PolicyStrict or PolicyAcceptNew.
func (k *KnownHosts) Policy() string { return k.policy }

// reloadLocked re-reads the file under a shared file lock; the caller
// holds mu (or owns k alone).
func (k *KnownHosts) reloadLocked() error {
	// Checked before opening: opening a FIFO would wait for a writer.
	if _, err := checkKnownHostsFile(k.path); err != nil {
		return k.parseLocked()
	}
	f, err := os.Open(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return k.parseLocked()
	}
	if err != nil {
		return fmt.Errorf("known_hosts: %w", err)
	}
	defer f.Close()
	if err := lockFile(f, false); err != nil {
		return fmt.Errorf("known_hosts: lock %s: %w", k.path, err)
	}
	defer unlockFile(f)
	return k.parseLocked()
}

// parseLocked reads the file into k.check; the caller holds mu and, unless
// the file is missing, a lock on it.
func (k *KnownHosts) parseLocked() error {
	files := []string{k.path}
	// Stat before reading: a line appended meanwhile by a writer that does
	// not lock makes the next append read the file again, never the reverse.
	fi, err := checkKnownHostsFile(k.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		files = nil
	case err != nil:
		return fmt.Errorf("known_hosts: %w", err)
	}
	cb, err := knownhosts.New(files...)
	if err != nil {
		return fmt.Errorf("known_hosts %s: %w", k.path, err)
	}
	k.check, k.seen, k.recorded = cb, fi, nil
	return nil
}

// changedSince reports whether the file, now cur, differs from what k has
// read and appended.
func (k *KnownHosts) changedSince(cur fs.FileInfo) bool {
	return k.seen == nil || !os.SameFile(k.seen, cur) || k.seen.Size() != cur.Size() || !k.seen.ModTime().Equal(cur.ModTime())
}

// checkKnownHostsFile refuses what the parser must not be given: anything
// but a regular file (a directory, /dev/zero), or a file over the cap.
func checkKnownHostsFile(path string) (fs.FileInfo, error) {
	if err := fsread.CheckRegular(path); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > fsread.LimitKnownHosts {
		return nil, fmt.Errorf("%s: %w: over the %s limit", path, fsread.ErrTooLarge, fsread.HumanSize(fsread.LimitKnownHosts))
	}
	return fi, nil
}

// callback is the HostKeyCallback for one Dial. hostname is the address we
// dialled ("host:port"), which is what known_hosts lines are matched against.
func (k *KnownHosts) callback(hostname string, remote net.Addr, key gossh.PublicKey) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	known, err := k.verifyLocked(hostname, remote, key, k.reloadLocked)
	switch {
	case err != nil || known:
		return err
	case k.policy == PolicyAcceptNew:
		return k.recordLocked(hostname, remote, key)
	}
	return k.unknownError(hostname, key)
}

// verifyLocked checks key against the file as last read and the keys
// recorded since: known is true when it matches, and err is set when the
// file refuses it (a changed or revoked key). Neither means the host is
// unknown. reread reads the file again (under the lock the caller holds or
// a shared one), for the file and line of a key recorded since.
func (k *KnownHosts) verifyLocked(hostname string, remote net.Addr, key gossh.PublicKey, reread func() error) (known bool, err error) {
	known, err = k.verifyFileLocked(hostname, remote, key)
	if err != nil || known {
		return known, err
	}
	recorded := k.recorded[knownhosts.Normalize(hostname)]
	for _, r := range recorded {
		if bytes.Equal(r.Marshal(), key.Marshal()) {
			return true, nil
		}
	}
	if len(recorded) == 0 {
		return false, nil
	}
	// Changed since we recorded it: the file names the line.
	if err := reread(); err != nil {
		return false, err
	}
	return k.verifyFileLocked(hostname, remote, key)
}

// verifyFileLocked is verifyLocked against the file as last read only.
func (k *KnownHosts) verifyFileLocked(hostname string, remote net.Addr, key gossh.PublicKey) (known bool, err error) {
	err = k.check(hostname, remote, key)
	if err == nil {
		return true, nil
	}
	var (
		keyErr  *knownhosts.KeyError
		revoked *knownhosts.RevokedError
	)
	switch {
	case errors.As(err, &revoked):
		return false, fmt.Errorf("host key of %s is REVOKED at %s:%d (%s): %w",
			knownhosts.Normalize(hostname), revoked.Revoked.Filename, revoked.Revoked.Line,
			describeKey(key), transport.ErrHostKey)
	case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
		return false, k.changedError(hostname, key, keyErr.Want)
	case errors.As(err, &keyErr):
		return false, nil
	}
	return false, fmt.Errorf("check host key of %s against %s: %w: %w", hostname, k.path, transport.ErrHostKey, err)
}

// changedError is deliberately loud: a changed key is how a
// man-in-the-middle looks, and it is never accepted automatically.
func (k *KnownHosts) changedError(hostname string, key gossh.PublicKey, want []knownhosts.KnownKey) error {
	var old []string
	for _, w := range want {
		old = append(old, fmt.Sprintf("%s:%d has %s", w.Filename, w.Line, describeKey(w.Key)))
	}
	host := knownhosts.Normalize(hostname)
	return fmt.Errorf("host key for %s has CHANGED: the server offered %s but %s; "+
		"someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled; "+
		"if the change is expected, remove the old entry (ssh-keygen -f %s -R %s) and connect again: %w",
		host, describeKey(key), strings.Join(old, ", "), shellQuote(k.path), shellQuote(host), transport.ErrHostKey)
}

func (k *KnownHosts) unknownError(hostname string, key gossh.PublicKey) error {
	host, port, err := net.SplitHostPort(hostname)
	if err != nil {
		host, port = hostname, "22"
	}
	scan := "ssh-keyscan " + shellQuote(host)
	if port != "22" {
		scan = "ssh-keyscan -p " + port + " " + shellQuote(host)
	}
	return fmt.Errorf("unknown host %s (it offered %s): no entry in %s; "+
		"hint: check the fingerprint, then `%s >> %s`, or set host_key_policy: accept-new: %w",
		knownhosts.Normalize(hostname), describeKey(key), k.path, scan, shellQuote(k.path), transport.ErrHostKey)
}

// recordLocked appends hostname's key to the file (accept-new's first use)
// and remembers it, so later dials check against the recorded key. It
// holds the file's lock from the re-check to the end of the append, so
// another run recording hosts in the same file at the same time cannot
// interleave.
func (k *KnownHosts) recordLocked(hostname string, remote net.Addr, key gossh.PublicKey) error {
	fail := func(err error) error {
		return fmt.Errorf("record host key of %s in %s: %w: %w", hostname, k.path, transport.ErrHostKey, err)
	}
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(k.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	if err := lockFile(f, true); err != nil {
		return fail(fmt.Errorf("lock: %w", err))
	}
	defer unlockFile(f)
	before, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	// Another run may have recorded the host since we last read the file.
	if k.changedSince(before) {
		if err := k.parseLocked(); err != nil {
			return fail(err)
		}
	}
	if known, err := k.verifyLocked(hostname, remote, key, k.parseLocked); err != nil || known {
		return err
	}
	line := knownhosts.Line([]string{hostname}, key) + "\n"
	if endsWithoutNewline(f) {
		line = "\n" + line
	}
	if _, err := f.WriteString(line); err != nil {
		k.seen = nil // a partial line: read the file again next time
		return fail(err)
	}
	host := knownhosts.Normalize(hostname)
	if k.recorded == nil {
		k.recorded = map[string][]gossh.PublicKey{}
	}
	k.recorded[host] = append(k.recorded[host], key)
	// If our line alone grew the file, what we know is still all of it;
	// otherwise someone wrote meanwhile: read it again next time.
	k.seen = nil
	if after, err := f.Stat(); err == nil && after.Size() == before.Size()+int64(len(line)) {
		k.seen = after
	}
	return nil
}

// endsWithoutNewline reports whether f is non-empty and its last byte is not
// a newline, so an append would glue onto someone's last line.
func endsWithoutNewline(f *os.File) bool {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return false
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, st.Size()-1); err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return b[0] != '\n'
}

// algorithmsFor lists host key algorithms for the key types the file knows
// for hostname, so a server with several host keys presents the one we can
// check instead of one we have never seen (a false "changed key"). For a
// host the file does not know it is defaultHostKeyAlgorithms(). Either way
// ed25519 comes first: the order only picks which of a server's keys is
// presented, the set alone decides what can be verified.
func (k *KnownHosts) algorithmsFor(hostname string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var keyErr *knownhosts.KeyError
	var known []gossh.PublicKey
	if err := k.check(hostname, &net.TCPAddr{IP: net.IPv4zero}, k.probe); errors.As(err, &keyErr) {
		for _, w := range keyErr.Want {
			known = append(known, w.Key)
		}
	}
	known = append(known, k.recorded[knownhosts.Normalize(hostname)]...)
	if len(known) == 0 {
		return defaultHostKeyAlgorithms()
	}
	var algos []string
	seen := map[string]bool{}
	for _, w := range known {
		for _, a := range algorithmsForKeyType(w.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return preferEd25519(algos)
}

// defaultHostKeyAlgorithms is what a host not yet in known_hosts may
// present: every algorithm the library accepts by default (old hosts that
// only have an RSA or DSA key still work), ed25519 first, as OpenSSH
// orders them, so accept-new records the key OpenSSH's ssh would.
func defaultHostKeyAlgorithms() []string {
	return preferEd25519(slices.Concat(gossh.SupportedAlgorithms().HostKeys, gossh.InsecureAlgorithms().HostKeys))
}

// preferEd25519 moves ed25519 ahead of the other algorithms, among
// certificates and among plain keys, and certificates ahead of plain keys;
// the rest keep their order.
func preferEd25519(algos []string) []string {
	rank := func(a string) int {
		r := 1
		if a == gossh.KeyAlgoED25519 || a == gossh.CertAlgoED25519v01 {
			r = 0
		}
		if !strings.Contains(a, "-cert-") {
			r += 2
		}
		return r
	}
	out := slices.Clone(algos)
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// algorithmsForKeyType maps a key type to the signature algorithms that
// prove it; an RSA key can sign with SHA-2 or (legacy) SHA-1.
func algorithmsForKeyType(t string) []string {
	if t == gossh.KeyAlgoRSA {
		return []string{gossh.KeyAlgoRSASHA512, gossh.KeyAlgoRSASHA256, gossh.KeyAlgoRSA}
	}
	return []string{t}
}

// describeKey renders a key as OpenSSH prints it: type and SHA256 fingerprint.
func describeKey(key gossh.PublicKey) string {
	return key.Type() + " " + gossh.FingerprintSHA256(key)
}
