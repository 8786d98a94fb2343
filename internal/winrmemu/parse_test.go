package winrmemu

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestParseXSDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"PT60S", 60 * time.Second, false},
		{"PT0.5S", 500 * time.Millisecond, false},
		{"PT1M30S", 90 * time.Second, false},
		{"P1DT2H", 26 * time.Hour, false},
		{"PT7200.000S", 2 * time.Hour, false},
		{"60", 0, true},
		{"PT5X", 0, true},
		{"PT5", 0, true},
	}
	for _, tc := range cases {
		got, err := parseXSDuration(tc.in)
		if tc.bad != (err != nil) || got != tc.want {
			t.Errorf("%q: got %v, %v; want %v (bad=%v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestEncryptedBodyFraming(t *testing.T) {
	sig := bytes.Repeat([]byte{1}, 16)
	// The ciphertext deliberately contains the boundary text.
	sealed := []byte("abc--Encrypted Boundary\r\nxyz")
	built := buildEncryptedBody(len(sealed), sig, sealed)

	// masterzen and pywinrm write the same layout but without anything
	// between the payload and the closing boundary; ours is identical.
	clientStyle := []byte("--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n" +
		"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=28\r\n--Encrypted Boundary\r\n" +
		"\tContent-Type: application/octet-stream\r\n\x10\x00\x00\x00" + string(sig) + string(sealed) + "--Encrypted Boundary--\r\n")
	if !bytes.Equal(built, clientStyle) {
		t.Errorf("built body differs from the clients' layout:\n%q\n%q", built, clientStyle)
	}
	parts, err := parseEncryptedBody(built)
	if err != nil || len(parts) != 1 || !bytes.Equal(parts[0].sig, sig) || !bytes.Equal(parts[0].sealed, sealed) {
		t.Fatalf("parse: %+v %v", parts, err)
	}

	bad := map[string][]byte{
		"empty":          nil,
		"no length":      bytes.Replace(built, []byte("Length=28"), []byte("Len=28"), 1),
		"short payload":  bytes.Replace(built, []byte("Length=28"), []byte("Length=999"), 1),
		"no octet part":  bytes.Replace(built, []byte("application/octet-stream"), []byte("text/plain"), 1),
		"no boundary":    built[5:],
		"only a closing": []byte("--Encrypted Boundary--\r\n"),
	}
	for name, body := range bad {
		if _, err := parseEncryptedBody(body); !errors.Is(err, errEncBody) {
			t.Errorf("%s: want errEncBody, got %v", name, err)
		}
	}
}
