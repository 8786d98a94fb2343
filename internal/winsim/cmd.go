package winsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// runCmd is a tiny cmd.exe: echo (with > and >> redirection to a file),
// type FILE, type nul > FILE, del, hostname, ver, whoami, exit /b N.
func (h *Host) runCmd(inv invocation, stdout, stderr io.Writer) int {
	line := inv.line
	for _, p := range []string{"cmd.exe /c ", "cmd /c "} {
		if strings.HasPrefix(strings.ToLower(line), p) {
			line = line[len(p):]
		}
	}
	out, target, appendTo := splitRedirect(line)
	name, rest, _ := strings.Cut(strings.TrimSpace(out), " ")
	var text string
	code := 0
	switch strings.ToLower(name) {
	case "echo":
		// Redirected, cmd.exe keeps the space before '>' in the text.
		_, text, _ = strings.Cut(strings.TrimLeft(out, " "), " ")
		if target == "" {
			text = strings.TrimSpace(text)
		}
		text += "\r\n"
	case "echo.":
		text = "\r\n"
	case "hostname":
		text = h.cfg.Name + "\r\n"
	case "ver":
		text = "\r\nMicrosoft Windows [Version " + h.cfg.Version + ".2227]\r\n"
	case "whoami":
		text = strings.ToLower(h.cfg.Name + `\` + inv.user + "\r\n")
	case "type":
		arg := strings.Trim(strings.TrimSpace(rest), `"`)
		if strings.EqualFold(arg, "nul") {
			break
		}
		h.mu.Lock()
		body, ok := h.files[h.normPath(arg, inv.user)]
		h.mu.Unlock()
		if !ok {
			fmt.Fprint(stderr, "The system cannot find the file specified.\r\n")
			return 1
		}
		text = body
	case "del", "erase":
		arg := strings.TrimSpace(rest)
		arg = strings.TrimSpace(strings.TrimPrefix(arg, "/q"))
		arg = strings.TrimSpace(strings.TrimPrefix(arg, "/f"))
		h.mu.Lock()
		p := h.normPath(strings.Trim(arg, `"`), inv.user)
		_, ok := h.files[p]
		delete(h.files, p)
		h.mu.Unlock()
		if !ok {
			fmt.Fprintf(stderr, "Could Not Find %s\r\n", strings.Trim(arg, `"`))
		}
		return 0
	case "exit":
		arg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "/b"))
		n, _ := strconv.Atoi(arg)
		return n
	default:
		fmt.Fprintf(stderr, "'%s' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", name)
		return 1
	}
	if target == "" {
		fmt.Fprint(stdout, text)
		return code
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.normPath(target, inv.user)
	if appendTo {
		h.files[p] += text
	} else {
		h.files[p] = text
	}
	return code
}

// splitRedirect splits `cmd > "file"` / `cmd >> "file"`. cmd.exe writes
// what precedes the operator, its trailing space included.
func splitRedirect(line string) (cmd, target string, appendTo bool) {
	i := strings.LastIndex(line, ">")
	if i < 0 || (i > 0 && line[i-1] == '&') {
		return line, "", false
	}
	cmd, target = line[:i], strings.Trim(strings.TrimSpace(line[i+1:]), `"`)
	if strings.HasSuffix(cmd, ">") {
		cmd, appendTo = cmd[:len(cmd)-1], true
	}
	return cmd, target, appendTo
}

// normPath expands %TEMP% and %ProgramData% and lower-cases the path (the
// file system is case-insensitive).
func (h *Host) normPath(p, user string) string {
	if user == "" {
		user = "Administrator"
	}
	r := strings.NewReplacer(
		"%TEMP%", `C:\Users\`+user+`\AppData\Local\Temp`, "%temp%", `C:\Users\`+user+`\AppData\Local\Temp`,
		"%ProgramData%", `C:\ProgramData`, "%PROGRAMDATA%", `C:\ProgramData`,
	)
	return strings.ToLower(strings.ReplaceAll(r.Replace(strings.TrimSpace(p)), "/", `\`))
}

// The decode step of transport/winrm's chunked upload, recognised by its
// shape: the .b64 file, the expanded destination, the expected hash.
var (
	decodeSrcRe  = regexp.MustCompile(`Join-Path \$env:TEMP '(patchrun-[0-9a-f]+\.b64)'`)
	decodeDstRe  = regexp.MustCompile(`ExpandEnvironmentVariables\('((?:[^']|'')*)'\)`)
	decodeHashRe = regexp.MustCompile(`\$hash -ne '([0-9A-F]{64})'`)
)

// exitHashMismatch is the decode step's exit code for a bad SHA256.
const exitHashMismatch = 97

func isDecodeStep(text string) bool {
	return decodeSrcRe.MatchString(text) && decodeDstRe.MatchString(text) && decodeHashRe.MatchString(text)
}

// decodeUpload does what the decode step does: base64 file → destination,
// SHA256 checked, the .b64 file removed.
func (h *Host) decodeUpload(inv invocation, stderr io.Writer) int {
	src := `%TEMP%\` + decodeSrcRe.FindStringSubmatch(inv.text)[1]
	dst := strings.ReplaceAll(decodeDstRe.FindStringSubmatch(inv.text)[1], "''", "'")
	want := decodeHashRe.FindStringSubmatch(inv.text)[1]
	h.mu.Lock()
	defer h.mu.Unlock()
	srcPath := h.normPath(src, inv.user)
	enc, ok := h.files[srcPath]
	delete(h.files, srcPath)
	if !ok {
		fmt.Fprintf(stderr, "Could not find file '%s'.\r\n", src)
		return 1
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(enc), ""))
	if err != nil {
		fmt.Fprintf(stderr, "Exception calling \"FromBase64String\": %v\r\n", err)
		return 1
	}
	sum := sha256.Sum256(data)
	got := strings.ToUpper(hex.EncodeToString(sum[:]))
	if got != want {
		fmt.Fprintf(stderr, "expected %s, got %s\r\n", want, got)
		return exitHashMismatch
	}
	h.files[h.normPath(dst, inv.user)] = string(data)
	return 0
}
