package winsim_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winrmemu"
	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch/windows"
	"github.com/patchrun/patchrun/transport"
	"github.com/patchrun/patchrun/transport/winrm"
)

func startSim(t *testing.T, cfg winsim.Config) *winsim.Host {
	t.Helper()
	h, err := winsim.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func dialSim(t *testing.T, h *winsim.Host) *winrm.Client {
	t.Helper()
	user, pass := h.Credentials()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := winrm.Config{Address: h.Address(), Port: h.Port(), User: user, Password: pass, HTTPS: h.HTTPS(),
		CACertPEM: h.CACertPEM(), OperationTimeout: time.Second, ResponseTimeout: 3 * time.Second,
		ConnectTimeout: time.Second, CallTimeout: 3 * time.Second}
	c, err := winrm.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCmdSubset(t *testing.T) {
	h := startSim(t, winsim.Config{Name: "WIN-CMD"})
	c := dialSim(t, h)
	tests := []struct {
		line   string
		stdout string
		stderr string
		exit   int
	}{
		{line: "echo hello world", stdout: "hello world\r\n"},
		{line: "hostname", stdout: "WIN-CMD\r\n"},
		{line: "whoami", stdout: `win-cmd\administrator` + "\r\n"},
		{line: "ver", stdout: "\r\nMicrosoft Windows [Version 10.0.20348.2227]\r\n"},
		{line: "exit /b 3", exit: 3},
		{line: `echo abc > "%TEMP%\x.txt"`},
		{line: `echo def >> "%TEMP%\x.txt"`},
		{line: `type "%TEMP%\x.txt"`, stdout: "abc \r\ndef \r\n"},
		{line: `type "C:\nope.txt"`, stderr: "The system cannot find the file specified.\r\n", exit: 1},
		{line: "ipconfig /all", stderr: "'ipconfig' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n", exit: 1},
		{line: winrm.PowerShellCommand("Get-Date"), stderr: "only patchrun's own PowerShell scripts", exit: 1},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := c.Run(ctx, transport.Command{Line: tc.line})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tc.exit || string(res.Stdout) != tc.stdout || !strings.Contains(string(res.Stderr), tc.stderr) {
				t.Errorf("exit %d stdout %q stderr %q; want %d %q %q", res.ExitCode, res.Stdout, res.Stderr, tc.exit, tc.stdout, tc.stderr)
			}
		})
	}
}

// TestUploadThroughSim runs transport/winrm's chunked, hash-checked upload
// against the host's file system, over several chunks.
func TestUploadThroughSim(t *testing.T) {
	h := startSim(t, winsim.Config{})
	c := dialSim(t, h)
	data := strings.Repeat("patchrun upload payload ", 1200) // > 2 chunks of base64
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Upload(ctx, `C:\Windows\Temp\payload.txt`, strings.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	res, err := c.Run(ctx, transport.Command{Line: `type "C:\Windows\Temp\payload.txt"`})
	if err != nil || string(res.Stdout) != data {
		t.Fatalf("uploaded file differs (%d bytes, err %v)", len(res.Stdout), err)
	}
	for _, f := range h.Files() {
		if strings.HasSuffix(f, ".b64") {
			t.Errorf("upload left its base64 file: %s", f)
		}
	}
}

// TestAppendInventory adds simulated hosts to a patchrun inventory and
// loads it the way patchrun does.
func TestAppendInventory(t *testing.T) {
	plain := startSim(t, winsim.Config{Name: "win-http"})
	tls := startSim(t, winsim.Config{Name: "win-https", TLS: true})
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yaml")
	base := "defaults:\n  user: root\ngroups:\n  web: [web1]\nhosts:\n  - name: web1\n    address: 127.0.0.1\n    port: 2222\n"
	if err := os.WriteFile(inv, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := winsim.AppendInventory(inv, []*winsim.Host{plain, tls}); err != nil {
		t.Fatal(err)
	}
	hosts, err := inventory.Load(inv, inventory.LoadOptions{Home: dir, DefaultUser: "root"})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(hosts) != 3 {
		t.Fatalf("%d hosts", len(hosts))
	}
	for i, sim := range []*winsim.Host{plain, tls} {
		h := hosts[i+1]
		_, pass := sim.Credentials()
		if h.Name != sim.Name() || h.Transport != inventory.TransportWinRM || h.Port != sim.Port() || h.User != "Administrator" ||
			h.Password.Reveal() != pass || h.WinRM.HTTPS != sim.HTTPS() || !strings.Contains(strings.Join(h.Groups, ","), winsim.WindowsGroup) {
			t.Errorf("host %d: %+v", i, h)
		}
		if sim.HTTPS() && h.WinRM.CACert == "" {
			t.Errorf("https host without its CA bundle")
		}
	}
	if hosts[0].Name != "web1" || hosts[0].Transport != inventory.TransportSSH {
		t.Errorf("existing host changed: %+v", hosts[0])
	}
	if st, err := os.Stat(filepath.Join(dir, "win-http.password")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("password file: %v %v", st, err)
	}
}

func TestNeverReturnStaysDown(t *testing.T) {
	h := startSim(t, winsim.Config{Faults: winsim.Faults{NeverReturn: true}, DownTime: 10 * time.Millisecond})
	c := dialSim(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Run(ctx, transport.Command{Line: "hostname"}); err != nil {
		t.Fatal(err)
	}
	h.SetSignals(winsim.Signals{WURebootRequired: true})
	// Reboot as patch/windows does: the host may go down before the
	// command's answer arrives (a lost connection then means it started).
	if err := windows.New(windows.Options{}).Reboot(ctx, c); err != nil {
		t.Fatalf("reboot: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !h.Server().IsDown() {
		if time.Now().After(deadline) {
			t.Fatal("host never went down")
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
	}
	// Down with no return pending: it stays down, however long one waits.
	if !h.Server().IsDown() || h.Server().ReturnScheduled() {
		t.Errorf("a NeverReturn host is due back (down %v, return scheduled %v)", h.Server().IsDown(), h.Server().ReturnScheduled())
	}
	if h.Boots() != 1 || h.Signals().WURebootRequired {
		t.Errorf("boots %d signals %+v", h.Boots(), h.Signals())
	}
}

// TestWinRMFaultsForwarded checks SetFaults reaches the emulator: a
// rejected logon, the MaxShellsPerUser quota, a slow Receive.
func TestWinRMFaultsForwarded(t *testing.T) {
	h := startSim(t, winsim.Config{})
	user, pass := h.Credentials()
	cfg := winrm.Config{Address: h.Address(), Port: h.Port(), User: user, Password: pass,
		OperationTimeout: time.Second, ResponseTimeout: 3 * time.Second, ConnectTimeout: time.Second, CallTimeout: 3 * time.Second}
	dial := func() (*winrm.Client, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := winrm.Dial(ctx, cfg)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return c, err
	}

	h.SetFaults(winsim.Faults{WinRM: winrmemu.Faults{RejectAuth: true}})
	if _, err := dial(); !errors.Is(err, transport.ErrAuth) {
		t.Errorf("rejected logon: want ErrAuth, got %v", err)
	}
	h.SetFaults(winsim.Faults{WinRM: winrmemu.Faults{ShellQuotaExceeded: true}})
	var fault *winrm.WSManFault
	if _, err := dial(); !errors.As(err, &fault) || fault.Code != winrm.FaultMaxShells {
		t.Errorf("shell quota: want the MaxShellsPerUser fault, got %v", err)
	}
	h.SetFaults(winsim.Faults{WinRM: winrmemu.Faults{ReceiveDelay: 150 * time.Millisecond}})
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Run(ctx, transport.Command{Line: "hostname"}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("slow Receive fault not applied: command took %s", el)
	}
}
