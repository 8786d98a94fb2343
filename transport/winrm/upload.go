package winrm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/patchrun/patchrun/transport"
)

// uploadChunk is how many base64 characters one echo step carries. With the
// echo, the redirection and a %TEMP% that may expand to a long path, a line
// stays well under cmd.exe's 8191 characters.
const uploadChunk = 6000

// exitHashMismatch is the decode step's exit code for a bad SHA256.
const exitHashMismatch = 97

// Upload writes size bytes from src to dst on the host. The bytes travel as
// base64 appended to a %TEMP% file by echo steps in the shell, then one
// PowerShell step decodes them into dst (environment variables such as
// %TEMP% are expanded; missing parent directories are created) and checks
// the SHA256 with Get-FileHash; a mismatch removes dst and fails.
func (c *Client) Upload(ctx context.Context, dst string, src io.Reader, size int64) error {
	if size < 0 {
		return fmt.Errorf("upload %s: negative size", dst)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(src, data); err != nil {
		return fmt.Errorf("upload %s: read source: %w", dst, err)
	}
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	if err := c.upload(ctx, dst, data); err != nil {
		return fmt.Errorf("upload %s: %w", dst, err)
	}
	return nil
}

// upload is Upload with sem held.
func (c *Client) upload(ctx context.Context, dst string, data []byte) error {
	id, err := newUploadID()
	if err != nil {
		return err
	}
	b64path := `%TEMP%\patchrun-` + id + `.b64`
	for i, line := range chunkLines(b64path, data) {
		if err := c.step(ctx, line); err != nil {
			if ctx.Err() == nil {
				_, _ = c.run(ctx, transport.Command{Line: `del /q "` + b64path + `"`}) // best effort
			}
			return fmt.Errorf("chunk %d: %w", i+1, err)
		}
	}
	sum := sha256.Sum256(data)
	res, err := c.run(ctx, transport.Command{Line: PowerShellCommand(decodeScript(id, dst, hex.EncodeToString(sum[:])))})
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	switch res.ExitCode {
	case 0:
		return nil
	case exitHashMismatch:
		return fmt.Errorf("SHA256 of the uploaded file does not match: %s", strings.TrimSpace(string(res.Stderr)))
	default:
		return fmt.Errorf("decode step exited %d: %s", res.ExitCode, excerpt(strings.TrimSpace(string(res.Stderr))))
	}
}

// step runs one upload command that must exit 0.
func (c *Client) step(ctx context.Context, line string) error {
	res, err := c.run(ctx, transport.Command{Line: line, MaxOutput: 4096})
	if err != nil {
		return err
	}
	if res.ExitCode != 0 {
		return fmt.Errorf("exit %d: %s", res.ExitCode, excerpt(strings.TrimSpace(string(res.Stderr))))
	}
	return nil
}

// chunkLines returns the cmd.exe lines that write data's base64 into
// path: the first creates (truncates) the file, the rest append. The space
// before ">" keeps a trailing digit from being read as a handle number;
// the decode step strips the spaces and line breaks echo adds.
func chunkLines(path string, data []byte) []string {
	enc := base64.StdEncoding.EncodeToString(data)
	if enc == "" {
		return []string{`type nul > "` + path + `"`}
	}
	var lines []string
	for len(enc) > 0 {
		n := min(uploadChunk, len(enc))
		op := ">>"
		if len(lines) == 0 {
			op = ">"
		}
		lines = append(lines, "echo "+enc[:n]+" "+op+` "`+path+`"`)
		enc = enc[n:]
	}
	return lines
}

// decodeScript is the PowerShell step that turns the base64 file into dst
// and verifies it.
func decodeScript(id, dst, sha256hex string) string {
	return `$ErrorActionPreference = 'Stop'
$src = Join-Path $env:TEMP 'patchrun-` + id + `.b64'
$dst = [Environment]::ExpandEnvironmentVariables(` + psQuote(dst) + `)
$dst = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($dst)
try {
    $bytes = [Convert]::FromBase64String(([IO.File]::ReadAllText($src) -replace '\s', ''))
    $dir = [IO.Path]::GetDirectoryName($dst)
    if ($dir -and -not (Test-Path -LiteralPath $dir)) { New-Item -ItemType Directory -Path $dir -Force | Out-Null }
    [IO.File]::WriteAllBytes($dst, $bytes)
} finally {
    Remove-Item -LiteralPath $src -Force -ErrorAction SilentlyContinue
}
$hash = (Get-FileHash -LiteralPath $dst -Algorithm SHA256).Hash
if ($hash -ne '` + strings.ToUpper(sha256hex) + `') {
    Remove-Item -LiteralPath $dst -Force -ErrorAction SilentlyContinue
    [Console]::Error.WriteLine('expected ` + strings.ToUpper(sha256hex) + `, got ' + $hash)
    exit ` + fmt.Sprint(exitHashMismatch) + `
}
exit 0
`
}

// psQuote makes s a PowerShell single-quoted string literal. PowerShell
// also ends such a string at the typographic single quotes, so every quote
// character is doubled.
func psQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		b.WriteRune(r)
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// newUploadID names the temporary files of one upload.
func newUploadID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("upload id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
