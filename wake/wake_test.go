package wake

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// The packet a network card matches: 6×0xFF, then the MAC 16 times,
// received by a real UDP listener on loopback.
func TestSendMagicPacketBytes(t *testing.T) {
	l, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	mac, _ := net.ParseMAC("52:54:00:ab:cd:ef")
	if err := Send(context.Background(), mac, l.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	_ = l.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	n, _, err := l.ReadFromUDP(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for range 16 {
		want = append(want, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef)
	}
	if n != PacketLen || !bytes.Equal(buf[:n], want) {
		t.Fatalf("received %d bytes % x\nwant % x", n, buf[:n], want)
	}
}

func TestPacketRefusesLongMAC(t *testing.T) {
	mac, _ := net.ParseMAC("00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01")
	if _, err := Packet(mac); err == nil {
		t.Fatal("a 20-byte hardware address made a magic packet")
	}
}

// A host that answers after 90 s of (fake) time is seen up within one
// probe interval of that; one that never answers is given up at the wait.
func TestWaitUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		probes := 0
		up := func(context.Context) bool { probes++; return time.Since(start) >= 90*time.Second }
		took, ok := WaitUp(context.Background(), up, 5*time.Minute, 10*time.Second)
		if !ok || took != 90*time.Second || probes != 10 {
			t.Fatalf("took %v ok %v after %d probes; want up at 90s after 10 probes", took, ok, probes)
		}
		never := func(context.Context) bool { return false }
		took, ok = WaitUp(context.Background(), never, 5*time.Minute, 10*time.Second)
		if ok || took != 5*time.Minute {
			t.Fatalf("never-up host: took %v ok %v; want given up at 5m", took, ok)
		}
	})
}

func TestDialProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if !DialProbe(addr, 2*time.Second)(context.Background()) {
		t.Fatal("listening port not seen up")
	}
	l.Close()
	if DialProbe(addr, 2*time.Second)(context.Background()) {
		t.Fatal("closed port seen up")
	}
}

// The default destination, the limited broadcast 255.255.255.255, needs
// SO_BROADCAST (without it the kernel refuses with EACCES); Linux also
// delivers the broadcast to a local listener on the port. Skipped on a
// machine with no route for it.
func TestSendToLimitedBroadcast(t *testing.T) {
	l, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.LocalAddr().(*net.UDPAddr).Port
	mac, _ := net.ParseMAC("52:54:00:ab:cd:01")
	err = Send(context.Background(), mac, net.JoinHostPort("255.255.255.255", strconv.Itoa(port)))
	if err != nil && (errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH)) {
		t.Skipf("no route for the limited broadcast here: %v", err)
	}
	if err != nil {
		t.Fatalf("send to the limited broadcast: %v", err)
	}
	_ = l.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	n, _, err := l.ReadFromUDP(buf)
	if err != nil {
		t.Skipf("the broadcast was sent but not delivered locally here: %v", err)
	}
	if n != PacketLen || !bytes.Equal(buf[96:102], mac) {
		t.Fatalf("received % x", buf[:n])
	}
}
