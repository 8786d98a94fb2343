package winrm

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/patchrun/patchrun/transport"
)

// maxCommandLine is what we allow for one cmd.exe command line: cmd.exe
// refuses more than 8191 characters; keep a margin for the WinRM wrapper.
const maxCommandLine = 8000

// psPrelude keeps PowerShell's progress records out of stderr.
const psPrelude = "$ProgressPreference='SilentlyContinue'\n"

// psExe is how every script is started: no profile (slow, and it can
// print), no prompts, no execution policy surprises.
const psExe = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass"

// PowerShellCommand returns a cmd.exe command line that runs script with
// powershell.exe -EncodedCommand (base64 of UTF-16LE), after switching
// progress output off. Check the length against the 8191-character cmd.exe
// limit, or use Client.RunPowerShell, which handles long scripts.
func PowerShellCommand(script string) string {
	return psExe + " -EncodedCommand " + encodePowerShell(psPrelude+script)
}

// encodePowerShell is the -EncodedCommand encoding: UTF-16LE, then base64.
func encodePowerShell(s string) string {
	units := utf16.Encode([]rune(s))
	raw := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(raw[2*i:], u)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// RunPowerShell runs script with PowerShell. A script too long for one
// command line is uploaded to %TEMP% first (chunked, hash-verified), run
// with -File and deleted. The result is the script's own: its exit code,
// stdout, and stderr with CLIXML decoded.
func (c *Client) RunPowerShell(ctx context.Context, script string) (transport.Result, error) {
	return RunPowerShell(ctx, c, script)
}

// RunPowerShell runs script with PowerShell over any transport to a
// Windows host, using only its Run and Upload: so it also works through a
// wrapper (the runner's logging transport), which then logs every step.
// Short scripts go as -EncodedCommand; longer ones are uploaded to %TEMP%
// (with a BOM, because Windows PowerShell reads a BOM-less .ps1 in the ANSI
// code page and would mangle non-ASCII), run with -File and deleted.
func RunPowerShell(ctx context.Context, t transport.Transport, script string) (transport.Result, error) {
	if line := PowerShellCommand(script); len(line) <= maxCommandLine {
		return t.Run(ctx, transport.Command{Line: line})
	}
	id, err := newUploadID()
	if err != nil {
		return transport.Result{}, err
	}
	path := `%TEMP%\patchrun-` + id + `.ps1`
	body := "\ufeff" + psPrelude + script
	if err := t.Upload(ctx, path, strings.NewReader(body), int64(len(body))); err != nil {
		return transport.Result{}, fmt.Errorf("upload script: %w", err)
	}
	res, err := t.Run(ctx, transport.Command{Line: psExe + ` -File "` + path + `"`})
	if ctx.Err() == nil {
		_, _ = t.Run(ctx, transport.Command{Line: `del /q "` + path + `"`}) // best effort
	}
	return res, err
}
