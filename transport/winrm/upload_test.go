package winrm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/patchrun/patchrun/transport"
)

// cmdLimit is cmd.exe's command line limit; tempExpansion is a generous
// length for what %TEMP% expands to.
const (
	cmdLimit      = 8191
	tempExpansion = 260
)

// fakeFS plays the host side of Upload and RunPowerShell: it interprets the
// echo, type, del, decode and -File steps against an in-memory disk.
//
// Concurrency: exec is called by the fake host with its lock held; the
// test reads files after Run returned, under mu.
type fakeFS struct {
	mu      sync.Mutex
	files   map[string][]byte
	corrupt bool // flip a byte while decoding, to test the hash check
	ran     []byte
}

const fakeTemp = `C:\Users\admin\AppData\Local\Temp`

var (
	reEcho    = regexp.MustCompile(`^echo (\S+) (>>?) "(.+)"$`)
	reTypeNul = regexp.MustCompile(`^type nul > "(.+)"$`)
	reDel     = regexp.MustCompile(`^del /q "(.+)"$`)
	reFile    = regexp.MustCompile(`^powershell\.exe .* -File "(.+)"$`)
	reEncoded = regexp.MustCompile(`^powershell\.exe .* -EncodedCommand (\S+)$`)
	reDecID   = regexp.MustCompile(`'patchrun-([0-9a-f]+)\.b64'`)
	reDecDst  = regexp.MustCompile(`ExpandEnvironmentVariables\('((?:[^']|'')*)'\)`)
	reDecHash = regexp.MustCompile(`\$hash -ne '([0-9A-F]{64})'`)
)

func expand(p string) string { return strings.ReplaceAll(p, "%TEMP%", fakeTemp) }

func (f *fakeFS) exec(t *testing.T) func(string, []byte) fakeOutcome {
	return func(line string, _ []byte) fakeOutcome {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(expand(line)) > cmdLimit {
			t.Errorf("command line of %d characters after expansion exceeds cmd.exe's limit", len(expand(line)))
			return fakeOutcome{stderr: "The command line is too long.", exit: 1}
		}
		switch {
		case reEcho.MatchString(line):
			m := reEcho.FindStringSubmatch(line)
			path := expand(m[3])
			if m[2] == ">" {
				f.files[path] = nil
			}
			f.files[path] = append(f.files[path], m[1]+" \r\n"...)
		case reTypeNul.MatchString(line):
			f.files[expand(reTypeNul.FindStringSubmatch(line)[1])] = []byte{}
		case reDel.MatchString(line):
			delete(f.files, expand(reDel.FindStringSubmatch(line)[1]))
		case reFile.MatchString(line):
			content, ok := f.files[expand(reFile.FindStringSubmatch(line)[1])]
			if !ok {
				return fakeOutcome{stderr: "file not found", exit: 1}
			}
			f.ran = content
			sum := sha256.Sum256(content)
			return fakeOutcome{stdout: "ran " + hex.EncodeToString(sum[:]) + "\r\n", exit: 0}
		case reEncoded.MatchString(line):
			script := decodeEncodedCommand(t, reEncoded.FindStringSubmatch(line)[1])
			if !strings.Contains(script, "FromBase64String") {
				return fakeOutcome{stdout: "inline\r\n"}
			}
			return f.decode(script)
		default:
			t.Errorf("fake host: unexpected command %q", line)
			return fakeOutcome{exit: 1}
		}
		return fakeOutcome{}
	}
}

// decode plays the PowerShell decode-and-verify step.
func (f *fakeFS) decode(script string) fakeOutcome {
	src := fakeTemp + `\patchrun-` + reDecID.FindStringSubmatch(script)[1] + ".b64"
	dst := expand(strings.ReplaceAll(reDecDst.FindStringSubmatch(script)[1], "''", "'"))
	want := reDecHash.FindStringSubmatch(script)[1]
	text, ok := f.files[src]
	if !ok {
		return fakeOutcome{stderr: "Could not find file " + src, exit: 1}
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(text)), ""))
	delete(f.files, src)
	if err != nil {
		return fakeOutcome{stderr: "invalid base64: " + err.Error(), exit: 1}
	}
	if f.corrupt && len(data) > 0 {
		data[0] ^= 0xff
	}
	f.files[dst] = data
	sum := sha256.Sum256(data)
	if got := strings.ToUpper(hex.EncodeToString(sum[:])); got != want {
		delete(f.files, dst)
		return fakeOutcome{stderr: "expected " + want + ", got " + got + "\r\n", exit: exitHashMismatch}
	}
	return fakeOutcome{}
}

func (f *fakeFS) lastRan() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ran
}

func (f *fakeFS) snapshot() map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range f.files {
		out[k] = v
	}
	return out
}

func uploadHost(t *testing.T) (*fakeHost, *fakeFS) {
	h := newFakeHost(t)
	fs := &fakeFS{files: map[string][]byte{}}
	h.exec = fs.exec(t)
	return h, fs
}

func TestChunkLinesStayUnderCmdLimit(t *testing.T) {
	for _, size := range []int{0, 1, 4499, 4500, 4501, 100_000} {
		data := bytes.Repeat([]byte{0xfe}, size)
		lines := chunkLines(`%TEMP%\patchrun-0123456789abcdef.b64`, data)
		var joined strings.Builder
		for i, l := range lines {
			if len(l)+tempExpansion > cmdLimit {
				t.Errorf("size %d: line %d is %d characters", size, i, len(l))
			}
			if m := reEcho.FindStringSubmatch(l); m != nil {
				joined.WriteString(m[1])
				if (i == 0) != (m[2] == ">") {
					t.Errorf("size %d: line %d uses %q", size, i, m[2])
				}
			}
		}
		if got, want := joined.String(), base64.StdEncoding.EncodeToString(data); got != want {
			t.Errorf("size %d: chunks do not reassemble the base64", size)
		}
	}
}

func TestUploadWritesVerifiedFile(t *testing.T) {
	h, fs := uploadHost(t)
	c := dialFake(t, h, nil)
	data := make([]byte, 20_000) // several chunks
	for i := range data {
		data[i] = byte(i * 7)
	}
	dst := `C:\ProgramData\patchrun\it's.bin`
	if err := c.Upload(testCtx(t), dst, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	files := fs.snapshot()
	if !bytes.Equal(files[dst], data) {
		t.Errorf("uploaded file differs (%d bytes, want %d)", len(files[dst]), len(data))
	}
	if len(files) != 1 {
		t.Errorf("temporary files left behind: %v", keys(files))
	}
	for _, l := range h.commandLines() {
		if len(l)+tempExpansion > cmdLimit {
			t.Errorf("a %d-character command line was sent", len(l))
		}
	}
}

func TestUploadEmptyFile(t *testing.T) {
	h, fs := uploadHost(t)
	c := dialFake(t, h, nil)
	if err := c.Upload(testCtx(t), `%TEMP%\empty.txt`, strings.NewReader(""), 0); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got, ok := fs.snapshot()[fakeTemp+`\empty.txt`]; !ok || len(got) != 0 {
		t.Errorf("empty file not created: %v", ok)
	}
}

func TestUploadHashMismatchFails(t *testing.T) {
	h, fs := uploadHost(t)
	fs.corrupt = true
	c := dialFake(t, h, nil)
	err := c.Upload(testCtx(t), `C:\x.bin`, strings.NewReader("payload"), 7)
	if err == nil || !strings.Contains(err.Error(), "SHA256") {
		t.Fatalf("err = %v, want a SHA256 mismatch", err)
	}
	if _, ok := fs.snapshot()[`C:\x.bin`]; ok {
		t.Errorf("corrupt file left in place")
	}
}

func TestUploadShortSource(t *testing.T) {
	h, _ := uploadHost(t)
	c := dialFake(t, h, nil)
	if err := c.Upload(testCtx(t), `C:\x.bin`, strings.NewReader("abc"), 10); err == nil {
		t.Fatalf("Upload of a 3-byte source declared as 10 bytes succeeded")
	}
}

func TestRunPowerShellShortScriptIsInline(t *testing.T) {
	h, _ := uploadHost(t)
	c := dialFake(t, h, nil)
	res, err := c.RunPowerShell(testCtx(t), "Get-Date")
	if err != nil || string(res.Stdout) != "inline\r\n" {
		t.Fatalf("got %q, %v", res.Stdout, err)
	}
	if n := len(h.commandLines()); n != 1 {
		t.Errorf("%d commands for a short script, want 1", n)
	}
}

func TestRunPowerShellLongScriptIsUploaded(t *testing.T) {
	h, fs := uploadHost(t)
	c := dialFake(t, h, nil)
	script := "# é ü 😀\n" + strings.Repeat("Write-Output 'padding line for a long script'\n", 300)
	if len(PowerShellCommand(script)) <= maxCommandLine {
		t.Fatal("test script is not long enough")
	}
	res, err := c.RunPowerShell(testCtx(t), script)
	if err != nil {
		t.Fatalf("RunPowerShell: %v", err)
	}
	want := append([]byte("\ufeff"), psPrelude+script...)
	sum := sha256.Sum256(want)
	if got := strings.TrimSpace(string(res.Stdout)); got != "ran "+hex.EncodeToString(sum[:]) {
		t.Errorf("the host ran a different script: %s", got)
	}
	if files := fs.snapshot(); len(files) != 0 {
		t.Errorf("files left behind: %v", keys(files))
	}
}

func TestUploadRefusedWhenClientBusyContextEnds(t *testing.T) {
	h, _ := uploadHost(t)
	c := dialFake(t, h, nil)
	c.sem <- struct{}{} // another operation holds the client
	defer func() { <-c.sem }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Upload(ctx, `C:\x`, strings.NewReader("x"), 1); err == nil {
		t.Fatal("Upload ran while another operation held the client")
	}
	if _, err := c.Run(ctx, transport.Command{Line: "x"}); err == nil {
		t.Fatal("Run ran while another operation held the client")
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
