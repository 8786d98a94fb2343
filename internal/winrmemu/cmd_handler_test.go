package winrmemu_test

import (
	"context"
	"io"
	"sync"
	"testing"

	"github.com/patchrun/patchrun/internal/winrmemu"
)

// runProcess drives a Process the way the server does: drain both streams,
// then Wait.
func runProcess(t *testing.T, p winrmemu.Process, stdin string, closeStdin bool) (string, string, int) {
	t.Helper()
	if stdin != "" {
		if _, err := io.WriteString(p.Stdin(), stdin); err != nil {
			t.Fatal(err)
		}
	}
	if closeStdin {
		p.Stdin().Close()
	}
	var out, errb []byte
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); out, _ = io.ReadAll(p.Stdout()) }()
	go func() { defer wg.Done(); errb, _ = io.ReadAll(p.Stderr()) }()
	wg.Wait()
	code, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return string(out), string(errb), code
}

func TestCmdHandler(t *testing.T) {
	cases := []struct {
		line, stdin    string
		args           []string
		stdout, stderr string
		code           int
	}{
		{line: "echo hello world", stdout: "hello world\r\n"},
		{line: "echo.", stdout: "\r\n"},
		{line: "cmd /c echo wrapped", stdout: "wrapped\r\n"},
		{line: "echo", args: []string{"from", "args"}, stdout: "from args\r\n"},
		{line: "echo a & echo b 1>&2 & echo c", stdout: "a\r\nc\r\n", stderr: "b\r\n"},
		{line: "exit /b 3010", code: 3010},
		{line: "echo before & exit 5 & echo after", stdout: "before\r\n", code: 5},
		{line: "bogus && echo skipped", stderr: "'bogus' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", code: 9009},
		{line: "echo ok && echo also", stdout: "ok\r\nalso\r\n"},
		{line: "type", stdin: "piped\n", stdout: "piped\n"},
		{line: "type missing.txt", stderr: "The system cannot find the file specified.\r\n", code: 1},
		{line: "sleep 10ms & echo slept", stdout: "slept\r\n"},
		{line: "timeout /t x", stderr: "ERROR: Invalid syntax. bad seconds \"x\"\r\n", code: 1},
	}
	for _, tc := range cases {
		t.Run(tc.line, func(t *testing.T) {
			p, err := winrmemu.CmdHandler{}.Start(context.Background(), winrmemu.CommandRequest{Command: tc.line, Arguments: tc.args})
			if err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := runProcess(t, p, tc.stdin, true)
			if stdout != tc.stdout || stderr != tc.stderr || code != tc.code {
				t.Errorf("got %q %q %d; want %q %q %d", stdout, stderr, code, tc.stdout, tc.stderr, tc.code)
			}
		})
	}
}

func TestCmdHandlerStopsOnSignal(t *testing.T) {
	for _, sig := range []winrmemu.Signal{winrmemu.SignalTerminate, winrmemu.SignalCtrlC} {
		p, err := winrmemu.CmdHandler{}.Start(context.Background(), winrmemu.CommandRequest{Command: "timeout /t 60 & echo not reached"})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Signal(sig); err != nil {
			t.Fatal(err)
		}
		// Stopped, not run out: "timeout" would have printed the echo.
		stdout, _, code := runProcess(t, p, "", false)
		if stdout != "" || code != 1 {
			t.Errorf("%s: stdout %q code %d", sig, stdout, code)
		}
	}
}

func TestFuncHandlerStdinEndsWhenStopped(t *testing.T) {
	// A function blocked reading stdin must see EOF when the command is stopped.
	ctx, cancel := context.WithCancel(context.Background())
	p, err := winrmemu.FuncHandler(func(ctx context.Context, req winrmemu.CommandRequest, stdout, stderr io.Writer, stdin io.Reader) int {
		b, _ := io.ReadAll(stdin)
		return len(b)
	}).Start(ctx, winrmemu.CommandRequest{})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(p.Stdin(), "abc")
	cancel()
	if _, _, code := runProcess(t, p, "", false); code > 3 {
		t.Errorf("read %d bytes, want at most the 3 written", code)
	}
}
