package windows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winrmemu"
	"github.com/patchrun/patchrun/internal/winsim"
	"github.com/patchrun/patchrun/patch"
	"github.com/patchrun/patchrun/patch/windows"
	"github.com/patchrun/patchrun/transport"
)

func TestFactsReportsEachRebootSignal(t *testing.T) {
	tests := []struct {
		name     string
		signals  winsim.Signals
		required bool
		reasons  []string
	}{
		{"none", winsim.Signals{}, false, nil},
		{"windows update", winsim.Signals{WURebootRequired: true}, true, []string{windows.ReasonWURebootRequired}},
		{"cbs", winsim.Signals{CBSRebootPending: true}, true, []string{windows.ReasonCBSRebootPending}},
		{"update exe volatile", winsim.Signals{UpdateExeVolatile: true}, true, []string{windows.ReasonUpdateExeVolatile}},
		{"pending file rename alone is soft", winsim.Signals{PendingFileRename: true}, false, []string{windows.ReasonPendingFileRename}},
		{"all", winsim.Signals{WURebootRequired: true, CBSRebootPending: true, PendingFileRename: true, UpdateExeVolatile: true}, true,
			[]string{windows.ReasonWURebootRequired, windows.ReasonCBSRebootPending, windows.ReasonUpdateExeVolatile, windows.ReasonPendingFileRename}},
	}
	h := startHost(t, winsim.Config{})
	c := dial(t, h)
	be := windows.New(fastOptions())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.SetSignals(tc.signals)
			f, err := be.Facts(testCtx(t), c)
			if err != nil {
				t.Fatalf("Facts: %v", err)
			}
			if f.RebootRequired != tc.required || strings.Join(f.RebootReasons, "|") != strings.Join(tc.reasons, "|") {
				t.Errorf("RebootRequired %t reasons %q; want %t %q", f.RebootRequired, f.RebootReasons, tc.required, tc.reasons)
			}
			req, reasons, err := be.RebootRequired(testCtx(t), c)
			if err != nil || req != tc.required || len(reasons) != len(tc.reasons) {
				t.Errorf("RebootRequired() = %t %q %v", req, reasons, err)
			}
			if f.Family != "windows" || f.PackageManager != windows.Name || f.OS != "Microsoft Windows Server 2022 Datacenter 20348" {
				t.Errorf("facts %+v", f)
			}
			if f.BootID != h.LastBootUpTime() || f.LastBoot.IsZero() {
				t.Errorf("boot id %q (last boot %v), host says %q", f.BootID, f.LastBoot, h.LastBootUpTime())
			}
			// Up three days, last patched before that, one adapter's
			// global addresses in CIDR form (its link-local one left out).
			if f.Arch != "AMD64" || f.OSName != "Microsoft Windows Server 2022 Datacenter" || f.OSVersion == "" ||
				f.Uptime < 71*time.Hour || !f.LastUpdated.Before(f.LastBoot) || len(f.Addresses) != 2 ||
				!strings.HasPrefix(f.Addresses[0], "10.30.0.") || !strings.HasSuffix(f.Addresses[0], "/24") ||
				!strings.HasPrefix(f.Addresses[1], "fd00:30::") || !strings.HasSuffix(f.Addresses[1], "/64") {
				t.Errorf("facts %+v", f)
			}
		})
	}
}

func TestScanThroughWinRM(t *testing.T) {
	h := startHost(t, winsim.Config{})
	c := dial(t, h)
	ups, err := windows.New(fastOptions()).Scan(testCtx(t), c)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	// DefaultUpdates has 5, one of which is offered only after a reboot.
	if len(ups) != 4 {
		t.Fatalf("got %d updates, want 4: %+v", len(ups), ups)
	}
	m := byKB(ups)
	cu := m["KB5034439"]
	if !cu.Security || cu.Severity != "critical" || cu.VendorSeverity != "Critical" || !cu.RebootRequired || cu.ID == "" || cu.SizeBytes != 412<<20 ||
		strings.Join(cu.Categories, ",") != "Security Updates" || cu.Optional {
		t.Errorf("cumulative update: %+v", cu)
	}
	if cu.Advisory != "KB5034439" || strings.Join(cu.CVEs, ",") != "CVE-2024-20666,CVE-2024-20674" || cu.Issued == nil || cu.Issued.Format("2006-01-02") != "2024-01-09" {
		t.Errorf("cumulative update risk data: %+v", cu)
	}
	if msrt := m["KB890830"]; msrt.Security || msrt.RebootRequired || msrt.Optional {
		t.Errorf("MSRT should be a plain non-security update: %+v", msrt)
	}
	if opt := m["KB5034613"]; !opt.Optional || opt.Security {
		t.Errorf("preview should be optional: %+v", opt)
	}
	if _, ok := m["KB5034862"]; ok {
		t.Errorf("the servicing stack update is applicable only after a reboot")
	}
}

func TestInstallRunsTaskAndCleansUp(t *testing.T) {
	h := startHost(t, winsim.Config{})
	c := dial(t, h)
	be := windows.New(fastOptions())
	ups, err := be.Scan(testCtx(t), c)
	if err != nil {
		t.Fatal(err)
	}
	sel := patch.Selection{SkipOptional: true}
	chosen := sel.Filter(ups)
	res, err := be.Install(testCtx(t), c, chosen, sel.FullUpgrade())
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if len(res.Updates) != 3 {
		t.Fatalf("result lists %d updates, want the 3 selected", len(res.Updates))
	}
	for _, u := range res.Updates {
		if !u.Installed || u.Error != "" {
			t.Errorf("%s: installed %t error %q", u.KB, u.Installed, u.Error)
		}
	}
	if !res.RebootRequired {
		t.Errorf("the cumulative update needs a reboot: RebootRequired false")
	}
	if got := h.Installs(); len(got) != 3 {
		t.Errorf("host installed %v, want exactly the 3 selected", got)
	}
	if tasks := h.Tasks(); len(tasks) != 0 {
		t.Errorf("scheduled tasks left behind: %v", tasks)
	}
	for _, f := range h.Files() {
		if strings.Contains(f, `programdata\patchrun`) || strings.Contains(f, `\temp\patchrun-`) {
			t.Errorf("file left behind: %s", f)
		}
	}
	// install-start carries the installer, so it is too long for one
	// command line and goes through the chunked, hash-checked upload.
	if cmds := strings.Join(h.Commands(), " "); !strings.Contains(cmds, "upload-decode install-start") {
		t.Errorf("install-start did not go through the upload: %s", cmds)
	}
	if req, reasons, _ := be.RebootRequired(testCtx(t), c); !req || len(reasons) == 0 {
		t.Errorf("after install the host should say reboot required, got %t %q", req, reasons)
	}
}

// The host drops the connection of two status polls while its installer
// runs; the install still completes. The client here polls only once the
// installer has installed everything, as a client on a loaded machine may:
// the drops must still happen mid-install.
func TestInstallSurvivesDroppedConnection(t *testing.T) {
	h := startHost(t, winsim.Config{Faults: winsim.Faults{DropDuringInstall: 2}})
	c := dial(t, h)
	be := windows.New(fastOptions())
	ups, err := be.Scan(testCtx(t), c)
	if err != nil {
		t.Fatal(err)
	}
	slow := slowClient{Transport: c, h: h, installs: 2}
	res, err := be.Install(testCtx(t), slow, ups[:2], false)
	if err != nil {
		t.Fatalf("Install across dropped connections: %v", err)
	}
	for _, u := range res.Updates {
		if !u.Installed {
			t.Errorf("%s not installed after reconnecting: %q", u.KB, u.Error)
		}
	}
	if d := h.Server().Stats().Dropped; d < 2 {
		t.Errorf("emulator dropped %d connections, want 2 (the fault did not fire)", d)
	}
}

// slowClient runs nothing while h has a task whose installer has not yet
// installed all of its updates: its polls come late, after the work is done.
type slowClient struct {
	transport.Transport
	h        *winsim.Host
	installs int
}

func (s slowClient) Run(ctx context.Context, cmd transport.Command) (transport.Result, error) {
	for len(s.h.Tasks()) > 0 && len(s.h.Installs()) < s.installs {
		select {
		case <-ctx.Done():
			return transport.Result{}, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return s.Transport.Run(ctx, cmd)
}

func TestInstallStaleHeartbeat(t *testing.T) {
	h := startHost(t, winsim.Config{Faults: winsim.Faults{StaleInstaller: true}})
	c := dial(t, h)
	opts := fastOptions()
	opts.StaleAfter = 150 * time.Millisecond
	be := windows.New(opts)
	ups, err := be.Scan(testCtx(t), c)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = be.Install(testCtx(t), c, ups[:1], false)
	if !errors.Is(err, windows.ErrStaleHeartbeat) || !strings.Contains(err.Error(), "installer heartbeat stale") {
		t.Fatalf("want a stale heartbeat error, got %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("stale installer detected only after %s", el)
	}
	if tasks := h.Tasks(); len(tasks) != 0 {
		t.Errorf("cleanup did not run after the failure: tasks %v", tasks)
	}
}

func TestInstallPerUpdateFailure(t *testing.T) {
	specs := winsim.DefaultUpdates()
	specs[1].FailHResult = 0x80240016
	h := startHost(t, winsim.Config{Updates: specs})
	c := dial(t, h)
	be := windows.New(fastOptions())
	ups, err := be.Scan(testCtx(t), c)
	if err != nil {
		t.Fatal(err)
	}
	res, err := be.Install(testCtx(t), c, ups[:3], false)
	if err != nil {
		t.Fatalf("a failed update is a result, not an error: %v", err)
	}
	m := byKB(res.Updates)
	if bad := m["KB"+specs[1].KB]; bad.Installed || !strings.HasPrefix(bad.Error, "0x80240016: install not allowed") {
		t.Errorf("failed update: installed %t error %q", bad.Installed, bad.Error)
	}
	if ok := m["KB"+specs[0].KB]; !ok.Installed || ok.Error != "" {
		t.Errorf("the other updates still install: %+v", ok)
	}
	if !strings.Contains(res.Output, "0x80240016") {
		t.Errorf("output does not name the HResult: %q", res.Output)
	}
}

func TestRebootChangesBootIDAndReady(t *testing.T) {
	// The servicing stack stays busy after boot until the test ends it, so
	// the busy answer does not depend on how fast the test gets there.
	h := startHost(t, winsim.Config{ServicingAfterBoot: time.Hour})
	c := dial(t, h)
	be := windows.New(fastOptions())
	before, err := be.BootID(testCtx(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := be.Reboot(testCtx(t), c); err != nil {
		t.Fatalf("Reboot: %v", err)
	}
	after, c2 := waitNewBoot(t, h, be, before)
	if after == before || after != h.LastBootUpTime() || h.Boots() != 1 {
		t.Errorf("boot id %q → %q (host %q, boots %d)", before, after, h.LastBootUpTime(), h.Boots())
	}
	// Just after boot the servicing stack is busy and Ready says so; once
	// idle Ready succeeds, probing twice.
	if err := be.Ready(testCtx(t), c2); !errors.Is(err, windows.ErrServicingBusy) {
		t.Errorf("Ready while servicing after boot: %v", err)
	}
	h.SetServicingBusy(0)
	n := len(h.Commands())
	if err := be.Ready(testCtx(t), c2); err != nil {
		t.Fatalf("Ready once servicing is idle: %v", err)
	}
	if probes := h.Commands()[n:]; strings.Join(probes, " ") != "ready ready" {
		t.Errorf("a successful Ready probes twice; its commands %q", probes)
	}
}

func TestReadyFailsWhileServicing(t *testing.T) {
	h := startHost(t, winsim.Config{})
	c := dial(t, h)
	h.SetServicingBusy(time.Hour)
	err := windows.New(fastOptions()).Ready(testCtx(t), c)
	if !errors.Is(err, windows.ErrServicingBusy) {
		t.Fatalf("Ready while servicing: %v", err)
	}
}

func TestRebootShutdownExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		faults winsim.Faults
	}{
		{"plain", winsim.Faults{}},
		{"1190 another shutdown scheduled: aborted and retried", winsim.Faults{ShutdownScheduled: true}},
		{"1115 shutdown in progress: counts as started", winsim.Faults{ShutdownInProgress: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := startHost(t, winsim.Config{Faults: tc.faults})
			c := dial(t, h)
			be := windows.New(fastOptions())
			before, err := be.BootID(testCtx(t), c)
			if err != nil {
				t.Fatal(err)
			}
			if err := be.Reboot(testCtx(t), c); err != nil {
				t.Fatalf("Reboot: %v", err)
			}
			if after, _ := waitNewBoot(t, h, be, before); after == before {
				t.Errorf("no new boot")
			}
		})
	}
}

func TestAccessDeniedHint(t *testing.T) {
	t.Run("filtered local admin token", func(t *testing.T) {
		h := startHost(t, winsim.Config{
			Users:         map[string]string{"Administrator": "A-Passw0rd!", "patchadm": "P-Passw0rd!"},
			FilteredUsers: []string{"patchadm"},
		})
		cfg := clientConfig(h)
		cfg.User, cfg.Password = "patchadm", "P-Passw0rd!"
		c := dialAs(t, cfg)
		be := windows.New(fastOptions())
		_, err := be.Facts(testCtx(t), c)
		if err == nil || !strings.Contains(err.Error(), "LocalAccountTokenFilterPolicy=1") || !strings.Contains(err.Error(), "0x80070005") {
			t.Fatalf("want access denied with the hint, got %v", err)
		}
		_, err = be.Install(testCtx(t), c, []patch.Update{{Name: "x", ID: winsim.DefaultUpdates()[0].ID}}, false)
		if err == nil || !strings.Contains(err.Error(), "built-in Administrator") {
			t.Fatalf("install as a filtered admin: want the hint, got %v", err)
		}
	})
	t.Run("wsman access denied", func(t *testing.T) {
		h := startHost(t, winsim.Config{Faults: winsim.Faults{WinRM: winrmemu.Faults{DenyAccess: true}}})
		_, err := winrmDial(t, h)
		if !errors.Is(err, transport.ErrAuth) || !strings.Contains(err.Error(), "LocalAccountTokenFilterPolicy") {
			t.Fatalf("want ErrAuth with the hint, got %v", err)
		}
	})
}

func TestBackendNeedsPowerShell(t *testing.T) {
	_, err := windows.New(fastOptions()).Facts(context.Background(), plainTransport{})
	if !errors.Is(err, windows.ErrNoPowerShell) {
		t.Fatalf("want ErrNoPowerShell, got %v", err)
	}
}

// hiddenPS wraps a transport the way the runner's logging wrapper does:
// only Run, Upload and Close show; the backend must still work over it.
type hiddenPS struct{ transport.Transport }

func TestBackendOverWrappedTransport(t *testing.T) {
	h := startHost(t, winsim.Config{})
	c := hiddenPS{dial(t, h)}
	be := windows.New(fastOptions())
	if _, err := be.Facts(testCtx(t), c); err != nil {
		t.Fatalf("Facts over plain Run: %v", err)
	}
	ups, err := be.Scan(testCtx(t), c)
	if err != nil {
		t.Fatal(err)
	}
	res, err := be.Install(testCtx(t), c, ups[:1], false)
	if err != nil || !res.Updates[0].Installed {
		t.Fatalf("Install over plain Run and Upload: %v %+v", err, res.Updates)
	}
	if cmds := strings.Join(h.Commands(), " "); !strings.Contains(cmds, "upload-decode install-start del") {
		t.Errorf("long script not uploaded, run with -File and deleted: %s", cmds)
	}
}

// An aborted run cancels the reboot it scheduled with shutdown /a while the
// shutdown's delay runs; a second cancel finds nothing left to abort.
func TestCancelRebootAbortsTheScheduledShutdown(t *testing.T) {
	h := startHost(t, winsim.Config{RebootDelay: time.Hour})
	c := dial(t, h)
	be := windows.New(fastOptions())
	if err := be.CancelReboot(testCtx(t), c); !errors.Is(err, patch.ErrRebootNotPending) {
		t.Fatalf("cancel with nothing scheduled: %v", err)
	}
	if err := be.Reboot(testCtx(t), c); err != nil {
		t.Fatalf("Reboot: %v", err)
	}
	if err := be.CancelReboot(testCtx(t), c); err != nil {
		t.Fatalf("CancelReboot: %v", err)
	}
	if err := be.CancelReboot(testCtx(t), c); !errors.Is(err, patch.ErrRebootNotPending) {
		t.Fatalf("second cancel: %v", err)
	}
	if h.Boots() != 0 {
		t.Errorf("host rebooted %d times", h.Boots())
	}
	cmds := strings.Join(h.Commands(), " ")
	if !strings.Contains(cmds, "cancel-reboot") {
		t.Errorf("no cancel-reboot script ran: %s", cmds)
	}
}
