package winrm

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/patchrun/patchrun/transport"
)

// scriptedInner is a winrm.Transporter that answers from a function.
type scriptedInner struct {
	post func() (string, error)
}

func (s *scriptedInner) Transport(*winrm.Endpoint) error { return nil }
func (s *scriptedInner) Post(*winrm.Client, *soap.SoapMessage) (string, error) {
	return s.post()
}

func TestGuardVetsResponses(t *testing.T) {
	okBody := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>`
	tests := []struct {
		name  string
		post  func() (string, error)
		check func(t *testing.T, body string, err error)
	}{
		{"clean envelope passes", func() (string, error) { return okBody, nil },
			func(t *testing.T, body string, err error) {
				if err != nil || body != okBody {
					t.Errorf("got %q, %v", body, err)
				}
			}},
		{"fault body becomes WSManFault", func() (string, error) {
			return faultBody(FaultMaxShells, "w:QuotaLimit", "The maximum number of shells for this user has been exceeded."), nil
		}, func(t *testing.T, _ string, err error) {
			var f *WSManFault
			if !errors.As(err, &f) {
				t.Fatalf("err = %v, want *WSManFault", err)
			}
			if f.Code != FaultMaxShells || f.Subcode != "w:QuotaLimit" || !strings.Contains(f.Text, "maximum number of shells") {
				t.Errorf("fault = %+v", f)
			}
		}},
		{"timed-out fault keeps the library's retry text", func() (string, error) {
			return faultBody(FaultTimedOut, "w:TimedOut", "The WS-Management service cannot complete the operation within the time specified in OperationTimeout."), nil
		}, func(t *testing.T, _ string, err error) {
			var f *WSManFault
			if !errors.As(err, &f) || !f.TimedOut() || !strings.Contains(err.Error(), "OperationTimeout") {
				t.Errorf("err = %v", err)
			}
		}},
		{"empty body", func() (string, error) { return "", nil }, wantProtocolError},
		{"whitespace body", func() (string, error) { return " \r\n", nil }, wantProtocolError},
		{"html body", func() (string, error) { return "Bad Request", nil }, wantProtocolError},
		{"truncated xml", func() (string, error) { return `<s:Envelope><s:Body><rsp:Rece`, nil }, wantProtocolError},
		{"panic in inner transporter", func() (string, error) {
			var parts [][]byte
			return string(parts[1]), nil // what the sealed parser does on an odd part count
		}, wantProtocolError},
		{"401 text becomes ErrAuth", func() (string, error) {
			return "", errors.New("http response error: 401 - invalid content type")
		}, func(t *testing.T, _ string, err error) {
			if !errors.Is(err, transport.ErrAuth) {
				t.Errorf("err = %v, want ErrAuth", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuard(&scriptedInner{post: tt.post}, time.Second, nil)
			body, err := g.Post(nil, soap.NewMessage())
			tt.check(t, body, err)
		})
	}
}

func wantProtocolError(t *testing.T, _ string, err error) {
	t.Helper()
	var p *ProtocolError
	if !errors.As(err, &p) {
		t.Errorf("err = %v (%T), want *ProtocolError", err, err)
	}
}

func TestGuardAbandonsHungPostAndStaysBroken(t *testing.T) {
	unblock := make(chan struct{})
	exited := make(chan struct{})
	killed := 0
	inner := &scriptedInner{post: func() (string, error) {
		defer close(exited)
		<-unblock
		return "", errors.New("cut off")
	}}
	g := newGuard(inner, 100*time.Millisecond, func() { killed++ })
	t.Cleanup(func() { close(unblock); <-exited })

	// The inner Post is released only at cleanup: only the guard can
	// end this one.
	_, err := g.Post(nil, soap.NewMessage())
	if !errors.Is(err, transport.ErrConnLost) {
		t.Fatalf("err = %v, want ErrConnLost", err)
	}
	if killed != 1 {
		t.Errorf("connections killed %d times, want 1", killed)
	}
	// The abandoned request still owns the inner transporter: refuse more.
	if _, err := g.Post(nil, soap.NewMessage()); !errors.Is(err, transport.ErrConnLost) {
		t.Errorf("Post after abandonment: %v, want the broken error", err)
	}
}
