package windows

import (
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed scripts/*.ps1
var scriptFS embed.FS

// Script names: the NAME of each script's "# patchrun-script: NAME" marker
// and of its file scripts/NAME.ps1.
const (
	ScriptFacts          = "facts"
	ScriptBootID         = "boot-id"
	ScriptScan           = "scan"
	ScriptInstallStart   = "install-start"
	ScriptInstaller      = "installer"
	ScriptInstallStatus  = "install-status"
	ScriptInstallCleanup = "install-cleanup"
	// ScriptInstallLeftovers lists what earlier, killed runs left behind.
	ScriptInstallLeftovers = "install-leftovers"
	ScriptReboot           = "reboot"
	ScriptCancelReboot     = "cancel-reboot"
	ScriptReady            = "ready"
)

// MarkerPrefix starts the first line of every embedded script.
const MarkerPrefix = "# patchrun-script: "

// ArgsPrefix starts the line Compose inserts to hand a script its
// arguments: the rest of the line decodes base64 UTF-8 JSON into
// $PatchrunArgs. A simulated host reads the same line.
const ArgsPrefix = "$PatchrunArgs = "

// ScriptNames lists every embedded script.
func ScriptNames() []string {
	return []string{ScriptFacts, ScriptBootID, ScriptScan, ScriptInstallStart, ScriptInstaller,
		ScriptInstallStatus, ScriptInstallCleanup, ScriptInstallLeftovers, ScriptReboot, ScriptCancelReboot, ScriptReady}
}

// Script returns the embedded text of scripts/NAME.ps1.
func Script(name string) (string, error) {
	b, err := scriptFS.ReadFile("scripts/" + name + ".ps1")
	if err != nil {
		return "", fmt.Errorf("script %s: %w", name, err)
	}
	return string(b), nil
}

// Compose returns the script ready to send: its marker line, then
// $PatchrunArgs (args as JSON; nil gives an empty object), then the
// Write-PatchrunResult function, then the rest of the script.
func Compose(name string, args any) (string, error) {
	text, err := Script(name)
	if err != nil {
		return "", err
	}
	marker, rest, _ := strings.Cut(text, "\n")
	if args == nil {
		args = struct{}{}
	}
	js, err := json.Marshal(args)
	if err != nil {
		return "", fmt.Errorf("script %s: arguments: %w", name, err)
	}
	argsLine := ArgsPrefix + "[Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('" +
		base64.StdEncoding.EncodeToString(js) + "')) | ConvertFrom-Json"
	return marker + "\n" + argsLine + "\n" + PSWriteResult + rest, nil
}

// ParseScript is the inverse of Compose for a simulated host: the script's
// name (from its marker line, which need not be the first line: the
// transport may put a prelude before it) and its arguments as JSON ("{}"
// when it has none). ok is false when the text is not a patchrun script.
func ParseScript(text string) (name string, args []byte, ok bool) {
	args = []byte("{}")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case name == "" && strings.HasPrefix(line, MarkerPrefix):
			name = strings.TrimSpace(strings.TrimPrefix(line, MarkerPrefix))
		case name != "" && strings.HasPrefix(line, ArgsPrefix):
			_, b64, found := strings.Cut(line, "FromBase64String('")
			b64, _, _ = strings.Cut(b64, "'")
			if dec, err := base64.StdEncoding.DecodeString(b64); found && err == nil {
				args = dec
			}
			return name, args, true
		}
	}
	return name, args, name != ""
}
