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

// PowerShellRunner is the fast path the backend prefers: running a whole
// PowerShell script (transport/winrm's Client does it, uploading scripts
// too long for one command line). A transport without it is driven with
// plain Run and Upload instead (see runPowerShell).
type PowerShellRunner interface {
	RunPowerShell(ctx context.Context, script string) (transport.Result, error)
}

// ErrNoPowerShell: the host has no powershell.exe (not a Windows host, or
// not a WinRM transport).
var ErrNoPowerShell = errors.New("no PowerShell on this host (the windows backend needs a Windows host over WinRM)")

// maxCommandLine: cmd.exe refuses more than 8191 characters; keep a margin.
const maxCommandLine = 8000

// psFile runs an uploaded script.
const psFile = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "

// runPowerShell runs script with the transport's own RunPowerShell when it
// has one. Otherwise (a wrapper such as the runner's logging transport
// hides it) it does the same over plain Run and Upload: -EncodedCommand
// when the line fits cmd.exe's limit, else upload to %TEMP%, run with
// -File, delete.
func runPowerShell(ctx context.Context, t transport.Transport, script string) (transport.Result, error) {
	if ps, ok := t.(PowerShellRunner); ok {
		return ps.RunPowerShell(ctx, script)
	}
	if line := winrm.PowerShellCommand(script); len(line) <= maxCommandLine {
		return t.Run(ctx, transport.Command{Line: line})
	}
	id, err := randomRunID()
	if err != nil {
		return transport.Result{}, err
	}
	path := `%TEMP%\patchrun-` + id + `.ps1`
	// A BOM: Windows PowerShell reads a BOM-less .ps1 in the ANSI code page.
	body := "\ufeff" + script
	if err := t.Upload(ctx, path, strings.NewReader(body), int64(len(body))); err != nil {
		return transport.Result{}, fmt.Errorf("upload script: %w", err)
	}
	res, err := t.Run(ctx, transport.Command{Line: psFile + `"` + path + `"`})
	if ctx.Err() == nil {
		_, _ = t.Run(ctx, transport.Command{Line: `del /q "` + path + `"`}) // best effort
	}
	return res, err
}

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
// non-zero or frames nothing gives an error wrapping patch.ErrCommandFailed.
func runScript(ctx context.Context, t transport.Transport, name string, args, out any) error {
	script, err := Compose(name, args)
	if err != nil {
		return err
	}
	res, err := runPowerShell(ctx, t, script)
	if err != nil {
		// transport/winrm's ErrAccessDenied errors explain the token filter
		// already; any other auth failure gets the hint here.
		if errors.Is(err, transport.ErrAuth) && !errors.Is(err, winrm.ErrAccessDenied) {
			return fmt.Errorf("%s.ps1: %w\n%s", name, err, hintAccessDenied)
		}
		return fmt.Errorf("%s.ps1: %w", name, err)
	}
	payload, perr := winrm.ParseFramed(res.Stdout)
	if perr != nil && notPowerShell(res) {
		return fmt.Errorf("%s.ps1: %w: exit status %d%s", name, ErrNoPowerShell, res.ExitCode, stderrTail(res))
	}
	if perr != nil {
		return fmt.Errorf("%s.ps1: exit status %d: %w: %v%s", name, res.ExitCode, patch.ErrCommandFailed, perr, stderrTail(res))
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
