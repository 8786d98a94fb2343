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

// ErrNoPowerShell: the host has no powershell.exe (not a Windows host, or
// not a WinRM transport).
var ErrNoPowerShell = errors.New("no PowerShell on this host (the windows backend needs a Windows host over WinRM)")

// notPowerShell recognises a shell that has no powershell.exe: sh's 127
// ("not found") or cmd.exe's 9009.
func notPowerShell(res transport.Result) bool {
	return res.ExitCode == 127 || res.ExitCode == 9009 ||
		strings.Contains(string(res.Stderr), "powershell.exe: not found") ||
		strings.Contains(string(res.Stderr), "powershell.exe: command not found")
}

// scriptError is what a script reports from its catch block.
type scriptError struct {
	Error   string `json:"error"`
	HResult string `json:"hresult"`
}

// runScript composes and runs the named script and decodes its framed
// result into out. Transport errors are wrapped (errors.Is still sees
// transport.ErrConnLost etc.); a script that reports an error, exits
// non-zero or frames nothing gives a *patch.CommandError.
func runScript(ctx context.Context, t transport.Transport, name string, args, out any) error {
	script, err := Compose(name, args)
	if err != nil {
		return err
	}
	// winrm.RunPowerShell needs only Run and Upload, so it works through the
	// runner's logging wrapper, which then logs each step.
	res, err := winrm.RunPowerShell(ctx, t, script)
	if err != nil {
		// transport/winrm's ErrAccessDenied errors explain the token filter
		// already; any other auth failure gets the hint here.
		if errors.Is(err, transport.ErrAuth) && !errors.Is(err, winrm.ErrAccessDenied) {
			return fmt.Errorf("%s.ps1: %w\n%s", name, err, hintAccessDenied)
		}
		return fmt.Errorf("%s.ps1: %w", name, err)
	}
	payload, perr := ParseFramed(res.Stdout)
	if perr != nil && notPowerShell(res) {
		return fmt.Errorf("%s.ps1: %w: exit status %d", name, ErrNoPowerShell, res.ExitCode)
	}
	if perr != nil {
		ce := patch.NewCommandError(name+".ps1", res.ExitCode, res.Stdout, res.Stderr)
		ce.Reason = perr.Error()
		return ce
	}
	var se scriptError
	if err := json.Unmarshal(payload, &se); err == nil && se.Error != "" {
		ce := patch.NewCommandError(name+".ps1", -1, nil, res.Stderr)
		ce.Reason = describeFailure(se.HResult, se.Error)
		return ce
	}
	if res.ExitCode != 0 {
		return patch.NewCommandError(name+".ps1", res.ExitCode, nil, res.Stderr)
	}
	if err := json.Unmarshal(payload, out); err != nil {
		return &patch.CommandError{Command: name + ".ps1", ExitCode: res.ExitCode, Reason: "result does not decode: " + err.Error()}
	}
	return nil
}
