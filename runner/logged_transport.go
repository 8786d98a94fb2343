package runner

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/patchrun/patchrun/transport"
)

// loggedTransport reports every remote command as an EventLog (command
// line, exit code or error, duration, and for a failed command a bounded
// tail of its output), so -v shows what a backend did without each backend
// logging on its own; it also hands each command's tail to the step in
// progress (stepCapture) for the host's report.
//
// Concurrency: like the Transport it wraps, it belongs to one host's owner.
type loggedTransport struct {
	transport.Transport
	h *hostRun
}

// maxLoggedLine keeps a long script out of the log line; the full text is
// the backend's business.
const maxLoggedLine = 160

func (l *loggedTransport) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	start := l.h.r.deps.Now()
	res, err := l.Transport.Run(ctx, cmd)
	took := l.h.r.deps.Now().Sub(start).Round(time.Millisecond)
	line := summarizeLine(cmd.Line)
	output := l.h.capture.record(line, res, err)
	if err != nil {
		l.h.logOutput(err, output, "run %q: no exit status after %s", line, took)
	} else {
		l.h.logOutput(nil, output, "run %q: exit %d in %s", line, res.ExitCode, took)
	}
	return res, err
}

func (l *loggedTransport) Upload(ctx context.Context, dst string, src io.Reader, size int64) error {
	start := l.h.r.deps.Now()
	err := l.Transport.Upload(ctx, dst, src, size)
	l.h.logf(err, "upload %s (%d bytes) in %s", dst, size, l.h.r.deps.Now().Sub(start).Round(time.Millisecond))
	return err
}

// summarizeLine keeps the first line of a command, cut to maxLoggedLine.
func summarizeLine(s string) string {
	s = strings.TrimSpace(s)
	cut := false
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s, cut = s[:i], true
	}
	if len(s) > maxLoggedLine {
		s, cut = strings.ToValidUTF8(s[:maxLoggedLine], ""), true
	}
	if cut {
		s += " …"
	}
	return s
}
