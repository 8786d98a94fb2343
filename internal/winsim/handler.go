package winsim

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/patchrun/patchrun/internal/winrmemu"
	"github.com/patchrun/patchrun/patch/windows"
)

// Start implements winrmemu.Handler. Faults that must act on this very
// command's Receive (a dropped connection) are armed here, before the
// client can send it.
func (h *Host) Start(ctx context.Context, req winrmemu.CommandRequest) (winrmemu.Process, error) {
	line := strings.TrimSpace(strings.Join(append([]string{req.Command}, req.Arguments...), " "))
	inv := h.parse(line, req.User)
	h.mu.Lock()
	h.commands = append(h.commands, inv.label())
	if inv.script == windows.ScriptInstallStatus && h.faults.DropDuringInstall > 0 && h.anyTaskRunningLocked() {
		h.faults.DropDuringInstall--
		h.faultsChangedLocked()
		f := h.srv.Faults()
		f.DropReceives++
		h.srv.SetFaults(f)
	}
	h.mu.Unlock()
	return winrmemu.FuncHandler(func(ctx context.Context, _ winrmemu.CommandRequest, stdout, stderr io.Writer, _ io.Reader) int {
		return h.exec(ctx, inv, stdout, stderr)
	}).Start(ctx, req)
}

// invocation is a parsed command line.
type invocation struct {
	line   string
	user   string
	ps     bool   // powershell.exe
	text   string // the PowerShell script text (decoded or read from a file)
	script string // patchrun script name, "" if none
	args   []byte // its $PatchrunArgs JSON
	err    string // why the script could not be read
}

func (inv invocation) label() string {
	switch {
	case inv.script != "":
		return inv.script
	case inv.ps && isDecodeStep(inv.text):
		return "upload-decode"
	case inv.ps:
		return "powershell"
	}
	name, _, _ := strings.Cut(inv.line, " ")
	return strings.ToLower(name)
}

// parse recognises powershell.exe runs (-EncodedCommand or -File).
func (h *Host) parse(line, user string) invocation {
	inv := invocation{line: line, user: user}
	lower := strings.ToLower(line)
	if !strings.HasPrefix(lower, "powershell") {
		return inv
	}
	inv.ps = true
	fields := strings.Fields(line)
	for i := 0; i < len(fields)-1; i++ {
		switch strings.ToLower(fields[i]) {
		case "-encodedcommand", "-enc", "-e":
			text, err := decodeUTF16Base64(fields[i+1])
			if err != nil {
				inv.err = "cannot decode -EncodedCommand: " + err.Error()
				return inv
			}
			inv.text = text
		case "-file":
			path := strings.Trim(strings.Join(fields[i+1:], " "), `"`)
			h.mu.Lock()
			text, ok := h.files[h.normPath(path, user)]
			h.mu.Unlock()
			if !ok {
				inv.err = fmt.Sprintf("The argument '%s' to the -File parameter does not exist.", path)
				return inv
			}
			inv.text = strings.TrimPrefix(text, "\ufeff")
		}
	}
	if name, args, ok := windows.ParseScript(inv.text); ok {
		inv.script, inv.args = name, args
	}
	return inv
}

// exec runs a parsed command and returns its exit code.
func (h *Host) exec(ctx context.Context, inv invocation, stdout, stderr io.Writer) int {
	switch {
	case inv.err != "":
		fmt.Fprintf(stderr, "%s\r\n", inv.err)
		return 1
	case inv.script != "":
		return h.runScript(ctx, inv, stdout, stderr)
	case inv.ps && isDecodeStep(inv.text):
		return h.decodeUpload(inv, stderr)
	case inv.ps:
		if a, ok := h.cfg.PowerShell[withoutPrelude(inv.text)]; ok {
			fmt.Fprint(stdout, a.Stdout)
			fmt.Fprint(stderr, a.Stderr)
			return a.Exit
		}
		fmt.Fprint(stderr, "winsim: this simulated host runs only patchrun's own PowerShell scripts and Config.PowerShell\r\n")
		return 1
	}
	return h.runCmd(inv, stdout, stderr)
}

// withoutPrelude drops the line transport/winrm puts before every script
// (progress records off).
func withoutPrelude(text string) string {
	if first, rest, ok := strings.Cut(text, "\n"); ok && strings.HasPrefix(first, "$ProgressPreference") {
		return rest
	}
	return text
}

// decodeUTF16Base64 is the -EncodedCommand decoding.
func decodeUTF16Base64(s string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", err
	}
	if len(raw)%2 != 0 {
		return "", fmt.Errorf("odd length %d", len(raw))
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	return string(utf16.Decode(units)), nil
}
