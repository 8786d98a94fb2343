package transport

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestCapBufferKeepsHeadAndFlagsTruncation(t *testing.T) {
	b := &CapBuffer{Max: 10}
	for _, chunk := range []string{"hello ", "world, ", "and more"} {
		n, err := b.Write([]byte(chunk))
		if err != nil || n != len(chunk) {
			// A short write would make io.Copy stop and the remote command
			// see a broken pipe: the buffer must accept and drop.
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	if got := string(b.Bytes()); got != "hello worl" {
		t.Errorf("kept %q, want the first 10 bytes", got)
	}
	if !b.Truncated() {
		t.Error("Truncated() = false after dropping bytes")
	}
}

func TestCapBufferExactFitIsNotTruncated(t *testing.T) {
	b := &CapBuffer{Max: 4}
	_, _ = b.Write([]byte("abcd"))
	_, _ = b.Write(nil)
	if b.Truncated() || string(b.Bytes()) != "abcd" {
		t.Errorf("exact fit: %q truncated=%v", b.Bytes(), b.Truncated())
	}
}

func TestCapBufferDefaultLimit(t *testing.T) {
	var b CapBuffer
	big := bytes.Repeat([]byte("x"), DefaultMaxOutput+100)
	_, _ = b.Write(big)
	if len(b.Bytes()) != DefaultMaxOutput || !b.Truncated() {
		t.Errorf("zero Max kept %d bytes (truncated=%v), want %d", len(b.Bytes()), b.Truncated(), DefaultMaxOutput)
	}
}

func TestKindAndPermanent(t *testing.T) {
	tests := []struct {
		err       error
		kind      string
		permanent bool
	}{
		{nil, "", false},
		{errors.New("boom"), "", false},
		{fmt.Errorf("dial web1: %w", ErrUnreachable), "unreachable", false},
		{fmt.Errorf("web1: %w", ErrAuth), "auth", true},
		{fmt.Errorf("web1: %w", ErrHostKey), "host-key", true},
		{fmt.Errorf("install: %w", fmt.Errorf("run: %w", ErrConnLost)), "connection-lost", false},
	}
	for _, tt := range tests {
		if got := Kind(tt.err); got != tt.kind {
			t.Errorf("Kind(%v) = %q, want %q", tt.err, got, tt.kind)
		}
		if got := Permanent(tt.err); got != tt.permanent {
			t.Errorf("Permanent(%v) = %v, want %v", tt.err, got, tt.permanent)
		}
	}
}
