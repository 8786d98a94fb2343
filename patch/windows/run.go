package windows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/transport"
	"github.com/patchrun/patchrun/transport/winrm"
)

// PowerShellRunner is what the backend needs beyond transport.Transport:
// running a whole PowerShell script (transport/winrm's Client does it,
// uploading scripts too long for one command line).
type PowerShellRunner interface {
	RunPowerShell(ctx context.Context, script string) (transport.Result, error)
}

// ErrNoPowerShell: the transport cannot run PowerShell scripts (not WinRM).
var ErrNoPowerShell = errors.New("transport cannot run PowerShell (the windows backend needs a WinRM transport)")

// scriptError is what a script reports from its catch block.
type scriptError struct {
	Error   string `json:"error"`
	HResult string `json:"hresult"`
}

// runScript composes and runs the named script and decodes its framed
// result into out. Transport errors are wrapped (errors.Is still sees
// transport.ErrConnLost etc.); a script that reports an error, exits
// non-zero or frames nothing gives an error wrapping patch.ErrCommandFailed.
func runScript(ctx context.Context, t transport.Transport, name string, args, out any) error {
	ps, ok := t.(PowerShellRunner)
	if !ok {
		return fmt.Errorf("%s: %w (got %T)", name, ErrNoPowerShell, t)
	}
	script, err := Compose(name, args)
	if err != nil {
		return err
	}
	res, err := ps.RunPowerShell(ctx, script)
	if err != nil {
		if errors.Is(err, transport.ErrAuth) && !strings.Contains(err.Error(), "LocalAccountTokenFilterPolicy") {
			return fmt.Errorf("%s: %w\n%s", name, err, hintAccessDenied)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	payload, perr := winrm.ParseFramed(res.Stdout)
	if perr != nil {
		return fmt.Errorf("%s: exit status %d: %w: %v%s", name, res.ExitCode, patch.ErrCommandFailed, perr, stderrTail(res))
	}
	var se scriptError
	if err := json.Unmarshal(payload, &se); err == nil && se.Error != "" {
		return fmt.Errorf("%s: %w: %s", name, patch.ErrCommandFailed, describeFailure(se.HResult, se.Error))
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("%s: exit status %d: %w%s", name, res.ExitCode, patch.ErrCommandFailed, stderrTail(res))
	}
	if err := json.Unmarshal(payload, out); err != nil {
		return fmt.Errorf("%s: %w: result does not decode: %v", name, patch.ErrCommandFailed, err)
	}
	return nil
}

// stderrTail is the end of a script's (already CLIXML-decoded) stderr, for
// error messages.
func stderrTail(res transport.Result) string {
	s := strings.TrimSpace(string(res.Stderr))
	if s == "" {
		return ""
	}
	if len(s) > 600 {
		s = "…" + s[len(s)-600:]
	}
	return "\n" + s
}
