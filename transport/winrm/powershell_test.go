package winrm

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"
)

// decodeEncodedCommand reverses -EncodedCommand: base64, then UTF-16LE.
func decodeEncodedCommand(t *testing.T, b64 string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("base64: %v", err)
	}
	if len(raw)%2 != 0 {
		t.Fatalf("odd UTF-16 length %d", len(raw))
	}
	units := make([]uint16, len(raw)/2)
	for i := range units {
		units[i] = binary.LittleEndian.Uint16(raw[2*i:])
	}
	return string(utf16.Decode(units))
}

func TestPowerShellCommandRoundTrip(t *testing.T) {
	scripts := []string{
		"Get-Service | Where-Object Status -eq 'Running'",
		"Write-Output 'naïve café — 😀'\nexit 3010",
		"",
		`$x = "quotes ' and "" and $env:TEMP"`,
	}
	for _, script := range scripts {
		line := PowerShellCommand(script)
		prefix := "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "
		if !strings.HasPrefix(line, prefix) {
			t.Fatalf("command line %q lacks %q", line, prefix)
		}
		enc := strings.TrimPrefix(line, prefix)
		if strings.ContainsAny(enc, " \t\r\n") {
			t.Errorf("encoded part has whitespace")
		}
		got := decodeEncodedCommand(t, enc)
		if want := "$ProgressPreference='SilentlyContinue'\n" + script; got != want {
			t.Errorf("round trip:\n got %q\nwant %q", got, want)
		}
	}
}

func TestPSQuote(t *testing.T) {
	tests := map[string]string{
		`C:\Windows\Temp\x.ps1`: `'C:\Windows\Temp\x.ps1'`,
		`C:\it's here`:          `'C:\it''s here'`,
		"C:\\curly\u2019s":      "'C:\\curly\u2019\u2019s'",
		`%TEMP%\$env:x`:         `'%TEMP%\$env:x'`,
	}
	for in, want := range tests {
		if got := psQuote(in); got != want {
			t.Errorf("psQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
