package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
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
