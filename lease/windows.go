package lease

import (
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/windows"
	"github.com/patchrun/patchrun/transport"
	"github.com/patchrun/patchrun/transport/winrm"
)

//go:embed lease.ps1
var windowsScript string

// WindowsScriptName is the lease script's name in its
// "# patchrun-script: NAME" marker, which a simulated host recognises.
const WindowsScriptName = "lease"

// WindowsAnswer is the lease script's framed result.
type WindowsAnswer struct {
	Status string `json:"status"`
	Now    int64  `json:"now"`
	Holder string `json:"holder"`
	Error  string `json:"error,omitempty"`
}

// composeWindows builds the script for req the way patch/windows composes
// its own: marker, $PatchrunArgs, Write-PatchrunResult, body.
func composeWindows(req Request) string {
	marker, rest, _ := strings.Cut(windowsScript, "\n")
	js, _ := json.Marshal(req)
	args := windows.ArgsPrefix + "[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('" +
		base64.StdEncoding.EncodeToString(js) + "')) | ConvertFrom-Json"
	return marker + "\n" + args + "\n" + windows.PSWriteResult + rest
}

func runWindows(ctx context.Context, t transport.Transport, req Request) (Outcome, error) {
	res, err := winrm.RunPowerShell(ctx, t, composeWindows(req))
	if err != nil {
		return Outcome{}, fmt.Errorf("lease %s: %w", req.Op, err)
	}
	payload, perr := windows.ParseFramed(res.Stdout)
	var a WindowsAnswer
	if perr == nil {
		perr = json.Unmarshal(payload, &a)
	}
	if perr != nil || a.Error != "" || res.ExitCode != 0 {
		ce := patch.NewCommandError("lease "+req.Op, res.ExitCode, res.Stdout, res.Stderr)
		if a.Error != "" {
			ce.Reason = a.Error
		}
		return Outcome{}, ce
	}
	o, err := parseAnswer([]byte(a.Status + "\nnow=" + strconv.FormatInt(a.Now, 10) + "\n--\n" + a.Holder))
	if err != nil {
		return Outcome{}, fmt.Errorf("lease %s: %w", req.Op, err)
	}
	return o, nil
}
