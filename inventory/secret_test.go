package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A loaded Host must never show its password, however it is printed.
func TestSecretNeverPrinted(t *testing.T) {
	f := newFixture(t)
	const pw = "Tr0ub4dor&3"
	f.env["WIN_PASS"] = pw
	inv := f.mustLoad("inventory.yaml", "hosts:\n  - {name: w, transport: winrm, password_env: WIN_PASS}\n")
	h := inv.Hosts[0]
	if h.Password.Reveal() != pw {
		t.Fatalf("password not loaded")
	}
	var logBuf, jsonLog bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("host", "host", h, "password", h.Password)
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("host", "host", h, "password", h.Password)
	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":        fmt.Sprintf("%v", h),
		"%+v":       fmt.Sprintf("%+v", h),
		"%#v":       fmt.Sprintf("%#v", h),
		"%s secret": fmt.Sprintf("%s", h.Password),
		"%v ptr":    fmt.Sprintf("%+v", &h),
		"slog text": logBuf.String(),
		"slog json": jsonLog.String(),
		"json":      string(j),
	}
	for name, out := range outputs {
		if strings.Contains(out, pw) {
			t.Errorf("%s output leaks the password: %s", name, out)
		}
		if !strings.Contains(out, "env:WIN_PASS") {
			t.Errorf("%s output does not say where the password came from: %s", name, out)
		}
	}
}

func TestAskPassCalledOnceForHostsWithoutReference(t *testing.T) {
	f := newFixture(t)
	f.env["PW"] = "fromenv"
	calls := 0
	opts := f.opts()
	opts.AskPass = func(prompt string) (string, error) {
		calls++
		if !strings.Contains(prompt, "3 host(s)") {
			t.Errorf("prompt %q does not say how many hosts need it", prompt)
		}
		return "typed", nil
	}
	p := f.write("inventory.yaml", "hosts:\n  - a\n  - b\n  - {name: c, password_env: PW}\n  - d\n", 0o644)
	hosts, err := Load(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("AskPass called %d times, want 1", calls)
	}
	want := map[string]string{"a": "typed", "b": "typed", "c": "fromenv", "d": "typed"}
	for _, h := range hosts {
		if h.Password.Reveal() != want[h.Name] {
			t.Errorf("%s password = %q, want %q", h.Name, h.Password.Reveal(), want[h.Name])
		}
	}
	if hostByName(t, hosts, "a").Password.Source() != "prompt" {
		t.Errorf("prompted secret source = %q", hostByName(t, hosts, "a").Password.Source())
	}
}

func TestAskPassNotCalled(t *testing.T) {
	cases := []struct {
		name, content string
		valid         bool
	}{
		{"every host has a reference", "defaults: {password_env: PW}\nhosts: [a, b]\n", true},
		{"the file is invalid", "hosts:\n  - {name: a, port: x}\n", false},
		{"kerberos logs in from a credential cache", "hosts:\n  - {name: a, password_env: PW}\n" +
			"  - {name: w, transport: winrm, winrm_https: true, winrm_auth: kerberos, winrm_kerberos_ccache: ~/krb5cc}\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.env["PW"] = "x"
			f.write("~/krb5cc", "cache", 0o600)
			opts := f.opts()
			opts.AskPass = func(string) (string, error) {
				t.Error("AskPass called")
				return "", nil
			}
			_, err := Load(f.write("inventory.yaml", tc.content, 0o644), opts)
			if tc.valid && err != nil {
				t.Errorf("load: %v", err)
			}
		})
	}
}

func TestAskPassFailures(t *testing.T) {
	boom := errors.New("no terminal")
	cases := []struct {
		name   string
		answer string
		err    error
		want   string
	}{
		{"prompt fails", "", boom, "ask password: no terminal"},
		{"empty answer", "", nil, "ask password: empty password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			opts := f.opts()
			opts.AskPass = func(string) (string, error) { return tc.answer, tc.err }
			_, err := Load(f.write("h.txt", "a\n", 0o644), opts)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if tc.err != nil && !errors.Is(err, boom) {
				t.Errorf("prompt error not wrapped: %v", err)
			}
		})
	}
}
