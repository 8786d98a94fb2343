package cmd

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/patchrun/patchrun/inventory"
	"github.com/patchrun/patchrun/wake"
)

// wake sends each host's magic packet to its wol_broadcast:wol_port (a
// loopback UDP listener here, checked byte for byte) and reports the host
// up once its transport port answers (a loopback TCP listener).
func TestWakeSendsMagicPacketsAndWaitsForHosts(t *testing.T) {
	udp := wolListener(t)
	sshPort, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sshPort.Close()
	wolPort := udp.LocalAddr().(*net.UDPAddr).Port
	_, port, _ := net.SplitHostPort(sshPort.Addr().String())
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	yaml := "defaults: {known_hosts: kh, wol_broadcast: 127.0.0.1, wol_port: " + strconv.Itoa(wolPort) + "}\nhosts:\n" +
		"  - {name: sleeper, address: 127.0.0.1, port: " + port + ", mac: \"52:54:00:ab:cd:ef\"}\n" +
		"  - {name: nomac, address: 127.0.0.1, port: " + port + "}\n"
	if err := os.WriteFile(inv, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, nil, "wake", "-i", inv, "-l", "sleeper", "--wait", "30s")
	if r.code != ExitOK || !strings.Contains(r.stdout, "sleeper: magic packet for 52:54:00:ab:cd:ef sent to 127.0.0.1:"+strconv.Itoa(wolPort)) ||
		!strings.Contains(r.stdout, "sleeper: up: 127.0.0.1:"+port+" answers") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	got := readPacket(t, udp)
	want := bytes.Repeat([]byte{0xff}, 6)
	for range 16 {
		want = append(want, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("packet % x\nwant   % x", got, want)
	}

	// A host without mac is named and makes the command exit 2; --wait 0
	// returns without probing.
	r = runCLI(t, nil, "wake", "-i", inv, "--wait", "0")
	if r.code != ExitHostsFailed || !strings.Contains(r.stdout, "nomac: not woken: no mac in the inventory") || strings.Contains(r.stdout, "up:") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	for _, args := range [][]string{{"--wait", "-1s"}, {"--wait", "soon"}} {
		r = runCLI(t, nil, append([]string{"wake", "-i", inv}, args...)...)
		if r.code != ExitCantStart || !strings.Contains(r.stderr, "--wait") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// The wait: a host that answers after 2 minutes is reported up then; one
// that never answers is given up at --wait and the command exits 2.
func TestWakeWaitsUntilHostsAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mac, _ := net.ParseMAC("52:54:00:00:00:01")
		hosts := []inventory.Host{{Name: "slow", Address: "192.0.2.1", Port: 22, MAC: mac}, {Name: "dead", Address: "192.0.2.2", Port: 22, MAC: mac}}
		start := time.Now()
		var sent []string
		d := wakeDeps{
			send: func(_ context.Context, h inventory.Host) error { sent = append(sent, h.Name); return nil },
			probe: func(h inventory.Host) wake.Probe {
				return func(context.Context) bool { return h.Name == "slow" && time.Since(start) >= 2*time.Minute }
			},
			poll: 5 * time.Second,
		}
		var out bytes.Buffer
		a := &app{streams: Streams{Out: &out, Err: &out}}
		err := a.wakeHosts(context.Background(), hosts, 5*time.Minute, d)
		if exitCode(err) != ExitHostsFailed || len(sent) != 2 {
			t.Fatalf("err %v, sent %v", err, sent)
		}
		if time.Since(start) != 5*time.Minute {
			t.Errorf("took %v, want the full 5m wait for the dead host", time.Since(start))
		}
		got := out.String()
		if !strings.Contains(got, "slow: up: 192.0.2.1:22 answers after 2m0s") || !strings.Contains(got, "dead: no answer on 192.0.2.2:22 within 5m0s") {
			t.Fatalf("output:\n%s", got)
		}
	})
}

// patch --wake: a host that does not answer is sent its magic packet (seen
// on a loopback UDP listener), then counted unreachable with the reason.
func TestPatchWakeSendsPacketToUnreachableHost(t *testing.T) {
	udp := wolListener(t)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(closed.Addr().String())
	closed.Close()
	dir := t.TempDir()
	inv := filepath.Join(dir, "hosts.yaml")
	yaml := "hosts:\n  - {name: off, address: 127.0.0.1, port: " + port + ", known_hosts: kh, password_env: PW, mac: \"52:54:00:00:00:09\", wol_broadcast: 127.0.0.1, wol_port: " +
		strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port) + "}\n"
	if err := os.WriteFile(inv, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, map[string]string{"PW": "x"}, "patch", "-i", inv, "--wake", "--reboot-timeout", "300ms", "--connect-timeout", "200ms",
		"--no-history", "--state-dir", filepath.Join(dir, "state"), "-o", "json")
	if r.code != ExitHostsFailed {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	h := hostByName(t, decodeReport(t, r), "off")
	if h.Status != "unreachable" || !strings.Contains(h.Error, "woken with a magic packet to 127.0.0.1:") {
		t.Fatalf("status %s error %q", h.Status, h.Error)
	}
	if got := readPacket(t, udp); len(got) != wake.PacketLen || !bytes.Equal(got[6:12], []byte{0x52, 0x54, 0x00, 0x00, 0x00, 0x09}) {
		t.Fatalf("packet %d bytes % x", len(got), got)
	}
}

// wolListener is a loopback UDP socket standing in for the hosts' network.
func wolListener(t *testing.T) *net.UDPConn {
	t.Helper()
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { udp.Close() })
	return udp
}

// readPacket returns the next datagram udp received.
func readPacket(t *testing.T, udp *net.UDPConn) []byte {
	t.Helper()
	_ = udp.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, _, err := udp.ReadFromUDP(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}
