package windows

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// The script protocol's result framing: a script prints its machine result
// as one marked line, whatever else PowerShell or the host prints.

// ResultMarker starts the line on which a script reports its machine
// result: the marker, then base64 of UTF-8 JSON. Banners, warnings and
// stray output around it cannot break parsing.
const ResultMarker = "#PATCHRUN-RESULT:"

// PSWriteResult is a PowerShell function for scripts to include: it
// prints obj as a framed result line. [Console]::Out bypasses PowerShell's
// formatter, which could wrap a long line.
const PSWriteResult = `function Write-PatchrunResult {
    param([Parameter(Mandatory = $true)] [AllowNull()] $Result)
    $json = ConvertTo-Json -InputObject $Result -Depth 6 -Compress
    $b64 = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes([string]$json))
    [Console]::Out.WriteLine()
    [Console]::Out.WriteLine('` + ResultMarker + `' + $b64)
    [Console]::Out.Flush()
}
`

// FrameMarker returns the framed result line for payload (UTF-8 JSON),
// exactly as Write-PatchrunResult prints it, without the line break.
func FrameMarker(payload []byte) string {
	return ResultMarker + base64.StdEncoding.EncodeToString(payload)
}

// ParseFramed finds the last result line in stdout and returns its decoded
// JSON. It fails, with a bounded excerpt of stdout, when there is no
// marker, the base64 is damaged, or the payload is not JSON.
func ParseFramed(stdout []byte) ([]byte, error) {
	lines := bytes.Split(stdout, []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		line := bytes.TrimSpace(lines[i])
		if !bytes.HasPrefix(line, []byte(ResultMarker)) {
			continue
		}
		enc := line[len(ResultMarker):]
		payload, err := base64.StdEncoding.DecodeString(string(enc))
		if err != nil {
			return nil, fmt.Errorf("result line is not valid base64 (%v): %q", err, excerpt(string(enc)))
		}
		if !json.Valid(payload) {
			return nil, fmt.Errorf("result is not JSON: %q", excerpt(string(payload)))
		}
		return payload, nil
	}
	return nil, fmt.Errorf("no %s line in the script output (%d bytes): %q", ResultMarker, len(stdout), tailExcerpt(stdout))
}

// frameExcerptMax bounds the output a framing error quotes.
const frameExcerptMax = 200

// excerpt keeps the start of s.
func excerpt(s string) string {
	if len(s) > frameExcerptMax {
		return strings.ToValidUTF8(s[:frameExcerptMax], "") + "…"
	}
	return s
}

// tailExcerpt keeps the end of the output, where a script's error usually is.
func tailExcerpt(b []byte) string {
	if len(b) > frameExcerptMax {
		return "…" + strings.ToValidUTF8(string(b[len(b)-frameExcerptMax:]), "")
	}
	return string(b)
}
