package fleet

import (
	"strings"
	"testing"
)

func TestShell(t *testing.T) {
	f := startFleet(t, Config{Hosts: []HostSpec{{Name: "web1", Distro: Debian12}}})
	h := f.Host("web1")
	tests := []struct {
		name, line     string
		stdout, stderr string // exact, unless prefixed with "~" (substring)
		code           int
	}{
		{"echo", "echo hello world", "hello world\n", "", 0},
		{"echo -n", "echo -n x", "x", "", 0},
		{"sequence", "echo a; echo b", "a\nb\n", "", 0},
		{"and runs after success", "true && echo yes", "yes\n", "", 0},
		{"and skips after failure", "false && echo yes", "", "", 1},
		{"or runs after failure", "false || echo fallback", "fallback\n", "", 0},
		{"or skips after success", "true || echo no", "", "", 0},
		{"chain", "false && echo a || echo b; echo c", "b\nc\n", "", 0},
		{"single quotes keep spaces and $", `echo 'a  $HOME b'`, "a  $HOME b\n", "", 0},
		{"double quotes expand", `echo "home=$HOME"`, "home=/root\n", "", 0},
		{"escaped quote", `echo "say \"hi\""`, "say \"hi\"\n", "", 0},
		{"env prefix is seen by the command", "LANG=C FOO=bar env", "~FOO=bar\n", "", 0},
		{"env prefix does not leak", "FOO=bar true; echo \"[$FOO]\"", "[]\n", "", 0},
		{"assignment sets variable", "X=1; echo $X", "1\n", "", 0},
		{"status variable", "false; echo $?", "1\n", "", 0},
		{"stdout to /dev/null", "echo hidden >/dev/null", "", "", 0},
		{"stderr to /dev/null", "cat /nope 2>/dev/null", "", "", 1},
		{"stderr to stdout", "cat /nope 2>&1", "cat: /nope: No such file or directory\n", "", 1},
		{"stdin from /dev/null", "cat </dev/null", "", "", 0},
		{"write and read a file", "echo data > /tmp/f && cat /tmp/f", "data\n", "", 0},
		{"append", "echo a > /tmp/g; echo b >> /tmp/g; cat /tmp/g", "a\nb\n", "", 0},
		{"missing directory", "echo x > /nodir/f", "", "sh: 1: cannot create /nodir/f: Directory nonexistent\n", 2},
		{"unknown command", "frobnicate --now", "", "sh: 1: frobnicate: not found\n", 127},
		{"unknown absolute path", "/opt/x/run", "", "sh: 1: /opt/x/run: not found\n", 127},
		{"absolute path of a known program", "/usr/bin/uname -s", "Linux\n", "", 0},
		{"sh -c", "sh -c 'echo inner; exit 3'", "inner\n", "", 3},
		{"sh -c positional", `sh -c 'echo $0 $1' me arg`, "me arg\n", "", 0},
		{"command substitution", `echo "k=$(uname -r)"`, "k=6.1.0-37-amd64\n", "", 0},
		{"pipe", "echo abc | cat", "abc\n", "", 0},
		{"test -e", "test -e /etc/os-release && echo yes", "yes\n", "", 0},
		{"test -f on dir", "test -f /etc || echo no", "no\n", "", 0},
		{"test -d", "[ -d /lib/modules ] && echo dir", "dir\n", "", 0},
		{"bracket needs ]", "[ -d /lib", "", "sh: 1: [: missing ]\n", 2},
		{"string compare", `[ "a" = "a" ] && [ 1 -lt 2 ] && echo ok`, "ok\n", "", 0},
		{"negation", "[ ! -e /run/reboot-required ] && echo clean", "clean\n", "", 0},
		{"command -v found and missing", "command -v dnf apt-get", "/usr/bin/apt-get\n", "", 1},
		{"command -v builtin", "command -v echo", "echo\n", "", 0},
		{"uname -rs", "uname -s -r", "Linux 6.1.0-37-amd64\n", "", 0},
		{"id -u", "id -u", "0\n", "", 0},
		{"hostname", "hostname", "web1\n", "", 0},
		{"os-release", "cat /etc/os-release", "~ID=debian\n", "", 0},
		{"ls -1", "ls -1 /lib/modules", "6.1.0-37-amd64\n", "", 0},
		{"sudo -n passes env", "sudo -n LANG=C env", "~LANG=C\n", "", 0},
		{"sudo unknown", "sudo -n nosuch", "", "sudo: nosuch: command not found\n", 1},
		{"true false", "true; false", "", "", 1},
		{"comment", "echo a # not this", "a\n", "", 0},
		{"syntax error", "echo (x)", "", `sh: 1: Syntax error: "(" unexpected` + "\n", 2},
		{"unterminated quote", "echo 'x", "", "sh: 1: Syntax error: Unterminated quoted string\n", 2},
		{"dangling and", "true &&", "", "sh: 1: Syntax error: end of file unexpected\n", 2},
		{"background job returns at once", "sleep 1000 >/dev/null 2>&1 </dev/null &", "", "", 0},
		{"printf", `printf '%s-%d\n' a 7`, "a-7\n", "", 0},
		{"printf octal and bell escapes", `printf '\033]0;x\007\a'`, "\x1b]0;x\x07\x07", "", 0},
		{"exit stops the list", "exit 4; echo no", "", "", 4},
		{"uptime", "uptime -p", "~up ", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runLocal(t, h, tc.line)
			if code != tc.code {
				t.Errorf("%q: exit %d, want %d (stdout %q stderr %q)", tc.line, code, tc.code, out, errOut)
			}
			check := func(what, got, want string) {
				if sub, ok := strings.CutPrefix(want, "~"); ok {
					if !strings.Contains(got, sub) {
						t.Errorf("%q: %s %q does not contain %q", tc.line, what, got, sub)
					}
				} else if got != want {
					t.Errorf("%q: %s = %q, want %q", tc.line, what, got, want)
				}
			}
			check("stdout", out, tc.stdout)
			check("stderr", errOut, tc.stderr)
		})
	}
}

func TestParseRedirections(t *testing.T) {
	s, err := parse("LANG=C apt-get -y install x </dev/null >/dev/null 2>&1 &")
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 1 || !s[0].background {
		t.Fatalf("want one background item, got %+v", s)
	}
	c := s[0].ao.pipes[0].cmds[0]
	if len(c.assigns) != 1 || c.assigns[0].name != "LANG" {
		t.Errorf("assigns = %+v", c.assigns)
	}
	if len(c.args) != 4 {
		t.Errorf("args = %d, want 4", len(c.args))
	}
	want := []redir{{fd: 0, op: "<"}, {fd: 1, op: ">"}, {fd: 2, op: "dup", dupFd: 1}}
	if len(c.redirs) != len(want) {
		t.Fatalf("redirs = %+v", c.redirs)
	}
	for i, w := range want {
		if c.redirs[i].fd != w.fd || c.redirs[i].op != w.op || c.redirs[i].dupFd != w.dupFd {
			t.Errorf("redir %d = %+v, want %+v", i, c.redirs[i], w)
		}
	}
}
