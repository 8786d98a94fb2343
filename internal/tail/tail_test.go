package tail

import (
	"fmt"
	"strings"
	"testing"
)

func TestOutputTail(t *testing.T) {
	numbered := func(n, width int) []byte {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%0*d\n", width, i)
		}
		return []byte(b.String())
	}
	tests := []struct {
		name           string
		stdout, stderr []byte
		want           string // exact, or checked by check
		check          func(string) string
		wantCut        bool
	}{
		{name: "nothing", want: ""},
		{name: "stderr before stdout", stdout: []byte("progress\n"), stderr: []byte("E: broken\n"), want: "E: broken\nprogress"},
		{name: "blank lines and trailing space dropped", stdout: []byte("a  \n\n   \nb\r\n\n"), want: "a\nb"},
		{name: "a progress bar keeps its final state", stdout: []byte("Downloading  10%\rDownloading  60%\rDownloading 100%\ndone\n"),
			want: "Downloading 100%\ndone"},
		{name: "invalid UTF-8 becomes ?", stdout: []byte("caf\xe9 ok\n"), want: "caf? ok"},
		{name: "line cap keeps the last lines", stdout: numbered(100, 3), wantCut: true, check: func(s string) string {
			if lines := strings.Split(s, "\n"); len(lines) != MaxLines || lines[0] != "060" || lines[39] != "099" {
				return fmt.Sprintf("%d lines from %q", len(lines), lines[0])
			}
			return ""
		}},
		{name: "byte cap keeps whole lines", stdout: numbered(38, 199), wantCut: true, check: func(s string) string {
			lines := strings.Split(s, "\n")
			if len(s) > MaxBytes || len(lines) != MaxBytes/200 || !strings.HasSuffix(s, "37") {
				return fmt.Sprintf("%d bytes, %d lines", len(s), len(lines))
			}
			for _, l := range lines {
				if len(l) != 199 {
					return fmt.Sprintf("partial line %q", l)
				}
			}
			return ""
		}},
		{name: "one huge line keeps its end", stdout: []byte(strings.Repeat("é", 5000) + "END\n"), wantCut: true, check: func(s string) string {
			if len(s) > MaxBytes || !strings.HasPrefix(s, "…é") || !strings.HasSuffix(s, "éEND") || strings.Contains(s, "?") {
				return fmt.Sprintf("%d bytes starting %q", len(s), s[:8])
			}
			return ""
		}},
		{name: "stderr has first claim on the budget", stdout: []byte("progress\n"), stderr: numbered(50, 2), wantCut: true, check: func(s string) string {
			if strings.Contains(s, "progress") || !strings.HasSuffix(s, "49") {
				return "stdout displaced stderr"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := Output(tt.stdout, tt.stderr, MaxLines, MaxBytes)
			if cut != tt.wantCut {
				t.Errorf("cut %v, want %v", cut, tt.wantCut)
			}
			if tt.check != nil {
				if msg := tt.check(got); msg != "" {
					t.Errorf("%s: got %q", msg, got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
