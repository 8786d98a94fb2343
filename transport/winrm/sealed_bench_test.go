package winrm

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/masterzen/winrm"

	"github.com/patchrun/patchrun/internal/winrmemu"
	"github.com/patchrun/patchrun/transport"
)

// BenchmarkSealedCommand runs one short command per iteration against the
// emulator (AllowUnencrypted=false) through the bare library with each
// sealed transporter: the library's Encryption (the old path) and ours.
// It reports HTTP requests and NTLM handshakes per command.
//
//	go test -run '^$' -bench SealedCommand ./transport/winrm/
func BenchmarkSealedCommand(b *testing.B) {
	transporters := []struct {
		name string
		make func(cfg Config, url string, conns *connTracker) winrm.Transporter
	}{
		{"library-encryption", func(Config, string, *connTracker) winrm.Transporter {
			enc, err := winrm.NewEncryption("ntlm")
			if err != nil {
				b.Fatal(err)
			}
			return enc
		}},
		{"patchrun-sealed", func(cfg Config, url string, conns *connTracker) winrm.Transporter {
			tr, err := newNTLMTransport(cfg, url, conns.DialContext)
			if err != nil {
				b.Fatal(err)
			}
			return tr
		}},
	}
	for _, tr := range transporters {
		b.Run(tr.name, func(b *testing.B) {
			s := startEmu(b, winrmemu.Config{})
			cfg := emuConfig(b, s, AuthNTLM, false).withDefaults()
			url := "http://" + net.JoinHostPort(cfg.Address, strconv.Itoa(cfg.Port)) + "/wsman"
			conns := newConnTracker(cfg.ConnectTimeout)
			b.Cleanup(conns.CloseAll)
			inner := tr.make(cfg, url, conns)
			params := *winrm.DefaultParameters
			params.Timeout = wsmanDuration(cfg.OperationTimeout)
			params.TransportDecorator = func() winrm.Transporter { return inner }
			ep := &winrm.Endpoint{Host: cfg.Address, Port: cfg.Port, Timeout: cfg.ResponseTimeout}
			wc, err := winrm.NewClientWithParameters(ep, cfg.User, cfg.Password, &params)
			if err != nil {
				b.Fatal(err)
			}
			shell, err := wc.CreateShell()
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { shell.Close() })
			before := s.Stats()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if out := runBare(b, shell, "echo bench"); out != "bench\r\n" {
					b.Fatalf("stdout %q", out)
				}
			}
			b.StopTimer()
			after := s.Stats()
			b.ReportMetric(float64(after.Requests-before.Requests)/float64(b.N), "http-req/cmd")
			b.ReportMetric(float64(after.NTLMHandshakes-before.NTLMHandshakes)/float64(b.N), "handshakes/cmd")
		})
	}
}

// BenchmarkSealedClientRun is the full stack: Client.Run on a sealed client.
func BenchmarkSealedClientRun(b *testing.B) {
	s := startEmu(b, winrmemu.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Dial(ctx, emuConfig(b, s, AuthNTLM, false))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	before := s.Stats()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Run(ctx, transport.Command{Line: "echo bench"}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(s.Stats().Requests-before.Requests)/float64(b.N), "http-req/cmd")
}

// runBare runs line in shell with the library alone and returns stdout.
func runBare(b *testing.B, shell *winrm.Shell, line string) string {
	cmd, err := shell.ExecuteWithContext(context.Background(), line)
	if err != nil {
		b.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		stdout []byte
	)
	wg.Add(2)
	go func() { defer wg.Done(); stdout, _ = io.ReadAll(cmd.Stdout) }()
	go func() { defer wg.Done(); _, _ = io.Copy(io.Discard, cmd.Stderr) }()
	cmd.Wait()
	wg.Wait()
	if err := cmd.Close(); err != nil {
		b.Fatal(err)
	}
	return string(stdout)
}
