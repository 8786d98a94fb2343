package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

// BenchmarkLoadCredentials is the per-Dial cost of a host's key file: a
// run dials every host with the same one.
func BenchmarkLoadCredentials(b *testing.B) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []struct {
		name string
		key  any
	}{{"ed25519", edKey}, {"rsa-3072", rsaKey}} {
		block, err := gossh.MarshalPrivateKey(k.key, "bench")
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "id")
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			b.Fatal(err)
		}
		for _, shared := range []bool{false, true} {
			cfg := Config{User: "u", KeyFiles: []string{path}}
			name := k.name + "/per-dial"
			if shared {
				cfg.Keys, name = &KeyFiles{}, k.name+"/shared"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					creds, err := loadCredentials(b.Context(), cfg)
					if err != nil {
						b.Fatal(err)
					}
					creds.close()
				}
			})
		}
	}
}

// BenchmarkAcceptNew is a first run under accept-new over a fleet of new
// hosts: each is checked and recorded in one known_hosts file.
func BenchmarkAcceptNew(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint(n, "-hosts"), func(b *testing.B) {
			keys := make([]gossh.PublicKey, n)
			for i := range keys {
				keys[i] = fleetHostKey(b, i, "real")
			}
			for b.Loop() {
				kh, err := OpenKnownHosts(filepath.Join(b.TempDir(), "known_hosts"), PolicyAcceptNew)
				if err != nil {
					b.Fatal(err)
				}
				for i, key := range keys {
					if err := kh.callback(fleetHostName(i), &net.TCPAddr{}, key); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
