package winrm

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// tripwire is a listener that fails the test if anything connects to it.
func tripwire(t *testing.T) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Errorf("policy violation: something connected to the host")
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	addr := ln.Addr().(*net.TCPAddr)
	return addr.IP.String(), addr.Port
}

func TestDialRefusesByPolicyWithoutContact(t *testing.T) {
	host, port := tripwire(t)
	base := Config{Address: host, Port: port, User: "admin", Password: "pw", CallTimeout: time.Second}
	tests := []struct {
		name     string
		mutate   func(*Config)
		wantText []string
	}{
		{"basic over http", func(c *Config) { c.Auth = AuthBasic },
			[]string{"winrm_allow_basic_http", "winrm_https"}},
		{"kerberos over http", func(c *Config) { c.Auth = AuthKerberos; c.Realm = "EXAMPLE.COM" },
			[]string{"winrm_https", "winrm_encryption: never"}},
		{"unknown auth", func(c *Config) { c.Auth = "digest" }, []string{"digest"}},
		{"unknown encryption", func(c *Config) { c.Encryption = "always" }, []string{"winrm_encryption"}},
		{"ntlm without user", func(c *Config) { c.User = "" }, []string{"user"}},
		{"bad CA bundle", func(c *Config) { c.HTTPS = true; c.CACertPEM = []byte("not a pem") }, []string{"winrm_ca_cert"}},
		{"response timeout not above operation timeout", func(c *Config) {
			c.OperationTimeout = 30 * time.Second
			c.ResponseTimeout = 30 * time.Second
		}, []string{"response timeout"}},
		{"no address", func(c *Config) { c.Address = "" }, []string{"address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			_, err := Dial(context.Background(), cfg)
			if !errors.Is(err, ErrPolicy) {
				t.Fatalf("err = %v, want ErrPolicy", err)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPolicyAllowsExplicitChoices(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"basic over http when allowed", Config{Address: "h", User: "u", Auth: AuthBasic, AllowBasicHTTP: true}},
		{"basic over https", Config{Address: "h", User: "u", Auth: AuthBasic, HTTPS: true}},
		{"kerberos over https", Config{Address: "h", User: "u", Auth: AuthKerberos, HTTPS: true}},
		{"kerberos over http, unencrypted accepted", Config{Address: "h", User: "u", Auth: AuthKerberos, Encryption: EncryptionNever}},
		{"ntlm default", Config{Address: "h", User: "u"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.withDefaults().validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{Address: "h", User: "u", HTTPS: true}.withDefaults()
	if c.Port != 5986 || c.Auth != AuthNTLM || c.Encryption != EncryptionAuto {
		t.Errorf("https defaults: port %d auth %s enc %s", c.Port, c.Auth, c.Encryption)
	}
	if c.ResponseTimeout <= c.OperationTimeout {
		t.Errorf("default response timeout %s not above operation timeout %s", c.ResponseTimeout, c.OperationTimeout)
	}
	if p := (Config{Address: "h"}).withDefaults().Port; p != 5985 {
		t.Errorf("http default port %d", p)
	}
	if !(Config{Auth: AuthNTLM, Encryption: EncryptionAuto}).sealed() {
		t.Errorf("ntlm over http must be sealed by default")
	}
	if (Config{Auth: AuthNTLM, Encryption: EncryptionAuto, HTTPS: true}).sealed() {
		t.Errorf("ntlm over https must not be sealed")
	}
}

func TestWSManDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:        "PT30S",
		1500 * time.Millisecond: "PT1.5S",
		200 * time.Millisecond:  "PT0.2S",
	} {
		if got := wsmanDuration(d); got != want {
			t.Errorf("wsmanDuration(%s) = %s, want %s", d, got, want)
		}
	}
}
