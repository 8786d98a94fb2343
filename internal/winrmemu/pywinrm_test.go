package winrmemu_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winrmemu"
)

// Debian's python3-winrm (pywinrm 0.3.0) is a second independent client,
// with its own NTLM (ntlm-auth) and its own sealing and fault handling.

const systemPython = "/usr/bin/python3" // the pyenv python3 on PATH has no winrm module

// openSSLLegacyConf activates OpenSSL 3's legacy provider (for MD4, which
// NTLM needs) next to the default one.
const openSSLLegacyConf = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`

// requirePywinrm skips when pywinrm is unavailable, except in CI where its
// absence is a broken setup.
func requirePywinrm(t *testing.T) {
	t.Helper()
	err := exec.Command(systemPython, "-c", "import winrm").Run()
	if err == nil {
		return
	}
	msg := "pywinrm unavailable (" + systemPython + " -c 'import winrm': " + err.Error() + "); install Debian's python3-winrm"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

type pyResult struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}

type pyOutput struct {
	Results         []pyResult `json:"results"`
	FaultAfterClose string     `json:"fault_after_close"`
	Error           string     `json:"error"`
	Traceback       string     `json:"traceback"`
}

func runPywinrm(t *testing.T, spec map[string]any) pyOutput {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "openssl.cnf")
	if err := os.WriteFile(conf, []byte(openSSLLegacyConf), 0o600); err != nil {
		t.Fatal(err)
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, filepath.Join("testdata", "pywinrm_run.py"), string(specJSON))
	cmd.Env = []string{"OPENSSL_CONF=" + conf, "NO_PROXY=*"}
	for _, kv := range os.Environ() {
		// requests honours proxy variables: a proxy must not sit between
		// the client and 127.0.0.1.
		if !strings.Contains(strings.ToLower(strings.SplitN(kv, "=", 2)[0]), "proxy") && !strings.HasPrefix(kv, "OPENSSL_CONF=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("pywinrm script: %v\n%s", err, stderr)
	}
	var res pyOutput
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("pywinrm output %q: %v", out, err)
	}
	return res
}

func TestPywinrm(t *testing.T) {
	requirePywinrm(t)
	commands := []struct {
		line           string
		stdout, stderr string
		code           int
	}{
		{"echo hello", "hello\r\n", "", 0},
		{"echo out & echo oops >&2 & exit /b 3", "out\r\n", "oops\r\n", 3},
		// Outlives the 1 s OperationTimeout: pywinrm must get the TimedOut
		// fault (sealed, in the sealed case) and retry.
		{"sleep 1300ms & echo late", "late\r\n", "", 0},
	}
	cases := []struct {
		name       string
		cfg        winrmemu.Config
		transport  string
		encryption string
		sealed     bool
	}{
		{"plaintext basic over http", winrmemu.Config{AllowUnencrypted: true}, "plaintext", "never", false},
		{"ntlm sealed over http", winrmemu.Config{AllowUnencrypted: false}, "ntlm", "always", true},
		{"ntlm unsealed over http", winrmemu.Config{AllowUnencrypted: true}, "ntlm", "never", false},
		{"ntlm over https", winrmemu.Config{TLS: true}, "ntlm", "never", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, tc.cfg)
			spec := map[string]any{
				"endpoint":          s.URL(),
				"transport":         tc.transport,
				"encryption":        tc.encryption,
				"username":          testUser,
				"password":          testPass,
				"operation_timeout": 1,
				"read_timeout":      5,
			}
			if tc.cfg.TLS {
				ca := filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(ca, s.CACertPEM(), 0o600); err != nil {
					t.Fatal(err)
				}
				spec["ca"] = ca
			}
			var lines []string
			for _, c := range commands {
				lines = append(lines, c.line)
			}
			spec["commands"] = lines
			res := runPywinrm(t, spec)
			if res.Error != "" {
				t.Fatalf("pywinrm failed: %s\n%s", res.Error, res.Traceback)
			}
			if len(res.Results) != len(commands) {
				t.Fatalf("got %d results, want %d", len(res.Results), len(commands))
			}
			for i, c := range commands {
				got := res.Results[i]
				if got.Stdout != c.stdout || got.Stderr != c.stderr || got.Code != c.code {
					t.Errorf("%q: got %+v, want stdout %q stderr %q code %d", c.line, got, c.stdout, c.stderr, c.code)
				}
			}
			if !strings.Contains(res.FaultAfterClose, "2150858843") {
				t.Errorf("command on a deleted shell: want InvalidSelectors fault 2150858843, got %q", res.FaultAfterClose)
			}
			st := s.Stats()
			if st.TimedOutFaults == 0 {
				t.Errorf("no OperationTimeout fault sent for the slow command: %+v", st)
			}
			if tc.sealed != (st.SealedRequests > 0) {
				t.Errorf("sealed=%v but server saw %d sealed requests", tc.sealed, st.SealedRequests)
			}
		})
	}
}

func TestPywinrmWrongPassword(t *testing.T) {
	requirePywinrm(t)
	for _, transport := range []string{"plaintext", "ntlm"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, winrmemu.Config{AllowUnencrypted: true})
			res := runPywinrm(t, map[string]any{
				"endpoint": s.URL(), "transport": transport, "encryption": "never",
				"username": testUser, "password": "not-" + testPass, "commands": []string{"echo x"},
			})
			if !strings.Contains(res.Error, "InvalidCredentialsError") {
				t.Errorf("want InvalidCredentialsError, got %+v", res)
			}
		})
	}
}
