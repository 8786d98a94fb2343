package unix

import (
	"context"
	"strconv"
	"strings"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
)

// scanCommand is a backend's scan: the command line and how its result
// reads. Scan runs it alone; fileBootState runs it inside the boot id read
// after a reboot, where the same result comes back as sections. The line is
// one simple command (CmdBootStateScan puts it after `||`).
type scanCommand struct {
	what  string // names the command in errors
	line  string
	parse func(what string, res transport.Result) ([]patch.Update, error)
}

// scanOnce runs the scan on its own.
func scanOnce(ctx context.Context, t transport.Transport, sc scanCommand) ([]patch.Update, error) {
	res, err := run(ctx, t, sc.what, sc.line)
	if err != nil {
		return nil, err
	}
	return sc.parse(sc.what, res)
}

// parseIfZero is the parse of a scan whose every exit but 0 is a failure.
func parseIfZero(parse func(string) []patch.Update) func(string, transport.Result) ([]patch.Update, error) {
	return func(what string, res transport.Result) ([]patch.Update, error) {
		if res.ExitCode != 0 {
			return nil, commandFailed(what, res)
		}
		return parse(string(res.Stdout)), nil
	}
}

// scanSections reads the scan out of CmdBootStateScan's sections; ran
// false when no scan result came back: the boot was the old one, or the
// answer lacks the scan's exit status (cut short). The caller then scans
// on its own. The scan's stderr is the whole command's: nothing else in
// it writes there.
func scanSections(s map[string]string, res transport.Result, sc scanCommand) (ups []patch.Update, ran bool, err error) {
	out, ran := s[SectionScan]
	code, convErr := strconv.Atoi(strings.TrimSpace(s[SectionScanExit]))
	if !ran || convErr != nil || res.Truncated {
		return nil, false, nil
	}
	if out != "" {
		out += "\n"
	}
	ups, err = sc.parse(sc.what, transport.Result{Stdout: []byte(out), Stderr: res.Stderr, ExitCode: code})
	return ups, true, err
}
