package ssh

import (
	"os/exec"
	"runtime"
	"testing"
)

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "/tmp/plain", want: `'/tmp/plain'`},
		{in: "", want: `''`},
		{in: "it's", want: `'it'\''s'`},
		{in: "a b$(rm -rf /)`x`\\n*", want: "'a b$(rm -rf /)`x`\\n*'"},
		{in: "''", want: `''\'''\'''`},
	}
	sh, err := exec.LookPath("sh")
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := shellQuote(tt.in)
			if got != tt.want {
				t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
			}
			// The real test: a POSIX shell reads it back unchanged.
			if err != nil || runtime.GOOS == "windows" {
				t.Skip("no POSIX sh")
			}
			out, err := exec.Command(sh, "-c", "printf %s "+got).Output()
			if err != nil || string(out) != tt.in {
				t.Errorf("sh read %s back as %q (%v), want %q", got, out, err, tt.in)
			}
		})
	}
}
