package windows

import (
	"fmt"
	"strconv"
	"strings"
)

// hintAccessDenied is appended wherever Windows says access is denied.
const hintAccessDenied = "hint: the account lacks an administrator token over WinRM: a local administrator other than " +
	"the built-in Administrator needs LocalAccountTokenFilterPolicy=1 " +
	"(HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System), or use the built-in Administrator, " +
	"a domain administrator, or an HTTPS listener"

// hresultAccessDenied is E_ACCESSDENIED; WS-Man reports it as 2147942405.
const hresultAccessDenied uint32 = 0x80070005

// hresultTexts gives a short meaning for the HResults an update install
// commonly ends with (Windows Update Agent WU_E_* and a few Win32 ones).
var hresultTexts = map[uint32]string{
	0x80070005: "access denied",
	0x80070643: "fatal error during installation",
	0x80070bc9: "a reboot is needed to finish a previous operation",
	0x8007000e: "out of memory",
	0x80070070: "not enough disk space",
	0x80240016: "install not allowed: another install or a pending reboot is in the way",
	0x80240017: "update not applicable to this host",
	0x80240022: "all updates in the operation failed",
	0x8024001e: "operation did not complete: the service or system was shutting down",
	0x80240020: "install not allowed: no user is logged on interactively",
	0x8024002e: "Windows Update access is disabled by policy",
	0x80242014: "post-reboot operation still in progress",
	0x80244022: "update server answered HTTP 503 (service unavailable)",
	0x8024402c: "update server name could not be resolved (proxy or DNS)",
	0x80246007: "update not downloaded",
	0x80246008: "download failed: BITS could not transfer the file",
	0x800f081f: "component store source files not found",
	0x800f0922: "install failed: could not reach the update server or the system reserved partition is full",
	0x800f0988: "component store needs cleanup (DISM /StartComponentCleanup)",
}

// parseHResult reads "0x80240016" (or decimal, or a negative int32).
func parseHResult(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		v, err := strconv.ParseUint(h, 16, 32)
		return uint32(v), err == nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}

// hresultText is "0x80240016: install not allowed: …" (or the bare code
// when it is not one we know).
func hresultText(code uint32) string {
	text := fmt.Sprintf("0x%08X", code)
	if t, ok := hresultTexts[code]; ok {
		text += ": " + t
	}
	return text
}

// withHint appends the access-denied hint when code calls for it.
func withHint(code uint32, text string) string {
	if code == hresultAccessDenied {
		return text + "\n" + hintAccessDenied
	}
	return text
}

// describeFailure is a script's error message with its HResult explained.
func describeFailure(hresult, msg string) string {
	code, ok := parseHResult(hresult)
	if !ok || code == 0 {
		return msg
	}
	return withHint(code, hresultText(code)+": "+msg)
}
