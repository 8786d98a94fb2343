package winsim_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/connect"
	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/windows"
)

// A WinRM host's ready_command reaches the Windows backend the product
// dispatches to and runs there as PowerShell (it used to be dropped).
func TestReadyCommandOfAWinRMHost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const check = "if ((Get-Service MSSQLSERVER).Status -ne 'Running') { exit 1 }"
	h, err := winsim.Start(ctx, winsim.Config{Name: "win-db", PowerShell: map[string]winsim.PSAnswer{
		check: {Stderr: "MSSQLSERVER is Stopped\r\n", Exit: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })

	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yaml")
	if err := os.WriteFile(inv, []byte("hosts: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := winsim.AppendInventory(inv, []*winsim.Host{h}); err != nil {
		t.Fatal(err)
	}
	hosts, err := inventory.Load(inv, inventory.LoadOptions{Home: dir})
	if err != nil || len(hosts) != 1 {
		t.Fatalf("load: %v (%d hosts)", err, len(hosts))
	}
	host := hosts[0]
	host.ReadyCommand = check

	dialer := connect.NewDialer(connect.Options{ConnectTimeout: 2 * time.Second, Windows: windows.Options{ReadyPause: time.Millisecond}})
	t.Cleanup(func() { dialer.Close() })
	tr, err := dialer.Dial(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	be, err := dialer.Detect(ctx, host, tr)
	if err != nil {
		t.Fatal(err)
	}
	err = be.Ready(ctx, tr)
	if !errors.Is(err, patch.ErrCommandFailed) || !strings.Contains(err.Error(), "MSSQLSERVER is Stopped") {
		t.Fatalf("Ready of a host whose ready_command exits 1: %v", err)
	}
}
