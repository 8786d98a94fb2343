package ssh

import (
	"sync"

	gossh "golang.org/x/crypto/ssh"
)

// KeyFiles reads and parses each private key file once and shares the
// result, good or bad, with every Dial that names it: a run dials many
// hosts with the same key, and parsing an RSA key costs milliseconds. Safe
// for concurrent use; the zero value is ready.
type KeyFiles struct {
	mu    sync.Mutex
	files map[string]*keyFile // by path
}

type keyFile struct {
	once   sync.Once
	signer gossh.Signer
	err    error
}

// signer returns path's key, reading it on first use. Concurrent first uses
// of one path wait for a single read; other paths are not held up.
func (k *KeyFiles) signer(path string) (gossh.Signer, error) {
	if k == nil {
		return readKeyFile(path)
	}
	k.mu.Lock()
	if k.files == nil {
		k.files = map[string]*keyFile{}
	}
	f, ok := k.files[path]
	if !ok {
		f = &keyFile{}
		k.files[path] = f
	}
	k.mu.Unlock()
	f.once.Do(func() { f.signer, f.err = readKeyFile(path) })
	return f.signer, f.err
}
