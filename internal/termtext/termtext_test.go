package termtext

import "testing"

func TestEscape(t *testing.T) {
	tests := []struct {
		in, text, line string
	}{
		{"plain web1 ünïcode", "plain web1 ünïcode", "plain web1 ünïcode"},
		{"\x1b]0;x\x07", `\x1b]0;x\x07`, `\x1b]0;x\x07`},
		{"\x1b[2J", `\x1b[2J`, `\x1b[2J`},
		{"a\x00b\x7fc", `a\x00b\x7fc`, `a\x00b\x7fc`},
		{"one\ntwo\tx", "one\ntwo\tx", `one\ntwo\tx`},
		{"win\r\nline\r\n", "win\nline\n", `win\r\nline\r\n`},
		{"progress 10%\rprogress 99%", `progress 10%\rprogress 99%`, `progress 10%\rprogress 99%`},
		{"c1 \u009b31m", `c1 \u009b31m`, `c1 \u009b31m`},
		{"bad \x9b byte", `bad \x9b byte`, `bad \x9b byte`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`, `evil\u202egnp.exe`},
		{`C:\Windows`, `C:\Windows`, `C:\Windows`},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.text {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.text)
		}
		if got := Line(tt.in); got != tt.line {
			t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.line)
		}
	}
}

func BenchmarkTextClean(b *testing.B) {
	s := "Get:1 http://deb.debian.org/debian bookworm/main amd64 openssl 3.0.15-1~deb12u1 [1,427 kB]\n"
	for b.Loop() {
		_ = Text(s)
	}
}
