package ssh

import (
	"os"
	"sync"
	"testing"
)

// A run reads each key file once: hosts dialled later use the key as it was
// read first, even if the file changes meanwhile, and concurrent first
// uses share one read.
func TestKeyFilesReadOnce(t *testing.T) {
	key := newClientKey(t)
	path := key.file(t)
	var keys KeyFiles
	const workers = 16
	creds := make([]*credentials, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			creds[i], errs[i] = loadCredentials(t.Context(), Config{User: "u", KeyFiles: []string{path}, Keys: &keys})
		}()
	}
	wg.Wait()
	for i := range workers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		creds[i].close()
	}
	first, err := keys.signer(path)
	if err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(path, []byte("not a key any more"), 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := keys.signer(path)
	if err != nil || again != first {
		t.Errorf("second use read the file again: %v", err)
	}
	if len(keys.files) != 1 {
		t.Errorf("%d cache entries for one file", len(keys.files))
	}
	// Without a cache every Dial reads the file.
	if _, err := (*KeyFiles)(nil).signer(path); err == nil {
		t.Error("a nil KeyFiles did not read the file")
	}
}
