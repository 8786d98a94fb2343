package winrmemu

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CmdHandler is a tiny cmd.exe look-alike for tests and demos. It knows:
//
//	echo TEXT, echo.      write TEXT and CRLF to stdout (append ">&2" or "1>&2" for stderr)
//	exit N, exit /b N     stop with exit code N
//	type, type con        copy stdin to stdout until it is closed
//	timeout /t N          wait N seconds (cut short by terminate or ctrl_c)
//	sleep DURATION        wait a Go duration such as 1500ms (an emulator extension, for fast tests)
//
// Statements are joined with "&" (always run the next) or "&&" (run the next
// only on success); a leading "cmd /c" is ignored. Anything else fails the
// way cmd.exe does, with exit code 9009. The exit code is the last
// statement's. A CmdHandler has no state and is safe for concurrent use.
type CmdHandler struct{}

// Start implements Handler.
func (CmdHandler) Start(ctx context.Context, req CommandRequest) (Process, error) {
	return FuncHandler(runCmdLine).Start(ctx, req)
}

func runCmdLine(ctx context.Context, req CommandRequest, stdout, stderr io.Writer, stdin io.Reader) int {
	line := strings.TrimSpace(strings.Join(append([]string{req.Command}, req.Arguments...), " "))
	for _, prefix := range []string{"cmd.exe /c ", "cmd /c ", "cmd.exe /C ", "cmd /C "} {
		line = strings.TrimPrefix(line, prefix)
	}
	code := 0
	for _, st := range splitStatements(line) {
		if st.onlyIfOK && code != 0 {
			break
		}
		var done bool
		code, done = runStatement(ctx, st.text, stdout, stderr, stdin)
		if done {
			break
		}
	}
	return code
}

type statement struct {
	text     string
	onlyIfOK bool // joined to the previous statement with &&
}

func splitStatements(line string) []statement {
	var out []statement
	onlyIfOK := false
	for {
		i := strings.IndexAny(line, "&\n")
		if i < 0 {
			out = append(out, statement{text: strings.TrimSpace(line), onlyIfOK: onlyIfOK})
			return out
		}
		// ">&2" is a redirection, not a separator.
		if line[i] == '&' && i > 0 && line[i-1] == '>' {
			j := strings.IndexAny(line[i+1:], "&\n")
			if j < 0 {
				out = append(out, statement{text: strings.TrimSpace(line), onlyIfOK: onlyIfOK})
				return out
			}
			i += 1 + j
		}
		out = append(out, statement{text: strings.TrimSpace(line[:i]), onlyIfOK: onlyIfOK})
		next := line[i+1:]
		onlyIfOK = false
		if line[i] == '&' && strings.HasPrefix(next, "&") {
			next = next[1:]
			onlyIfOK = true
		}
		line = next
	}
}

// runStatement runs one statement; done means "exit" was called.
func runStatement(ctx context.Context, st string, stdout, stderr io.Writer, stdin io.Reader) (code int, done bool) {
	out := stdout
	for _, redir := range []string{" 1>&2", " >&2"} {
		if strings.HasSuffix(st, redir) {
			st, out = strings.TrimSpace(strings.TrimSuffix(st, redir)), stderr
		}
	}
	name, rest, _ := strings.Cut(st, " ")
	switch strings.ToLower(name) {
	case "":
		return 0, false
	case "echo.":
		fmt.Fprint(out, "\r\n")
		return 0, false
	case "echo":
		fmt.Fprint(out, rest+"\r\n")
		return 0, false
	case "exit":
		arg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "/b"))
		if arg == "" {
			return 0, true
		}
		n, err := strconv.Atoi(arg)
		if err != nil {
			return 0, true
		}
		return n, true
	case "type":
		if a := strings.ToLower(strings.TrimSpace(rest)); a != "" && a != "con" {
			fmt.Fprint(stderr, "The system cannot find the file specified.\r\n")
			return 1, false
		}
		if _, err := io.Copy(out, stdin); err != nil {
			return 1, false
		}
		return 0, false
	case "timeout", "sleep":
		d, err := parseSleep(strings.ToLower(name), strings.TrimSpace(rest))
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: Invalid syntax. %v\r\n", err)
			return 1, false
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return 1, true
		case <-t.C:
			return 0, false
		}
	default:
		fmt.Fprintf(stderr, "'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", name)
		return 9009, false
	}
}

func parseSleep(name, arg string) (time.Duration, error) {
	if name == "sleep" {
		return time.ParseDuration(arg)
	}
	arg = strings.TrimSpace(strings.TrimPrefix(strings.ToLower(arg), "/t"))
	arg = strings.TrimSpace(strings.TrimSuffix(arg, "/nobreak"))
	n, err := strconv.Atoi(arg)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad seconds %q", arg)
	}
	return time.Duration(n) * time.Second, nil
}
