package winrmemu_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/patchrun/patchrun/internal/winrmemu"
)

// rawClient speaks WS-Man by hand (Basic auth) so tests can look at every
// header and fault, which real clients hide. One per test goroutine.
type rawClient struct {
	t    *testing.T
	url  string
	user string
	pass string
	http *http.Client
	seq  int
}

func newRawClient(t *testing.T, s *winrmemu.Server) *rawClient {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &rawClient{t: t, url: s.URL(), user: testUser, pass: testPass, http: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// response is what tests check in an answer.
type response struct {
	Status      int
	ContentType string
	Action      string `xml:"Header>Action"`
	MessageID   string `xml:"Header>MessageID"`
	To          string `xml:"Header>To"`
	RelatesTo   string `xml:"Header>RelatesTo"`
	ShellID     string `xml:"Body>ResourceCreated>ReferenceParameters>SelectorSet>Selector"`
	CommandID   string `xml:"Body>CommandResponse>CommandId"`
	Streams     []struct {
		Name string `xml:"Name,attr"`
		End  string `xml:"End,attr"`
		Data string `xml:",chardata"`
	} `xml:"Body>ReceiveResponse>Stream"`
	State struct {
		State    string `xml:"State,attr"`
		ExitCode *int   `xml:"ExitCode"`
	} `xml:"Body>ReceiveResponse>CommandState"`
	FaultSubcode string `xml:"Body>Fault>Code>Subcode>Value"`
	FaultText    string `xml:"Body>Fault>Reason>Text"`
	FaultDetail  struct {
		Code string `xml:"Code,attr"`
	} `xml:"Body>Fault>Detail>WSManFault"`
	FaultCode string `xml:"-"` // copied from FaultDetail.Code
}

func (r response) stream(name string) string {
	var out []byte
	for _, s := range r.Streams {
		if s.Name == name {
			b, _ := base64.StdEncoding.DecodeString(s.Data)
			out = append(out, b...)
		}
	}
	return string(out)
}

func (r response) done() bool { return strings.HasSuffix(r.State.State, "/Done") }

// request builds one envelope; it does not touch c.t, so any goroutine may use it.
func (c *rawClient) request(action, shellID, opTimeout, body string) (*http.Request, string, error) {
	c.seq++
	msgID := fmt.Sprintf("uuid:00000000-0000-4000-8000-%012d", c.seq)
	sel := ""
	if shellID != "" {
		sel = `<w:SelectorSet><w:Selector Name="ShellId">` + shellID + `</w:Selector></w:SelectorSet>`
	}
	env := `<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">
<env:Header><a:To>` + c.url + `</a:To><a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
<w:MaxEnvelopeSize>153600</w:MaxEnvelopeSize><a:MessageID>` + msgID + `</a:MessageID>
<w:OperationTimeout>` + opTimeout + `</w:OperationTimeout>
<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>
<a:Action>` + action + `</a:Action>` + sel + `</env:Header><env:Body>` + body + `</env:Body></env:Envelope>`
	req, err := http.NewRequest(http.MethodPost, c.url, strings.NewReader(env))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.SetBasicAuth(c.user, c.pass)
	return req, msgID, nil
}

// post sends one envelope and parses the answer.
func (c *rawClient) post(action, shellID, opTimeout, body string) (response, string) {
	c.t.Helper()
	req, msgID, err := c.request(action, shellID, opTimeout, body)
	if err != nil {
		c.t.Fatal(err)
	}
	r, err := c.do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", action, err)
	}
	return r, msgID
}

// do sends a built request; safe from any goroutine (no testing.T calls).
func (c *rawClient) do(req *http.Request) (response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("read: %w", err)
	}
	var r response
	if len(raw) > 0 {
		if err := xml.Unmarshal(raw, &r); err != nil {
			return response{}, fmt.Errorf("response is not XML: %w\n%s", err, raw)
		}
	}
	r.Status, r.ContentType = resp.StatusCode, resp.Header.Get("Content-Type")
	r.FaultCode = r.FaultDetail.Code
	return r, nil
}

const (
	aCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	aDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	aCommand = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Command"
	aReceive = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Receive"
	aSend    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"
	aSignal  = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Signal"
)

func (c *rawClient) createShell() string {
	c.t.Helper()
	r, _ := c.post(aCreate, "", "PT5S", `<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`)
	if r.Status != 200 || r.ShellID == "" {
		c.t.Fatalf("create shell: %+v", r)
	}
	return r.ShellID
}

func (c *rawClient) command(shell, line string) string {
	c.t.Helper()
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(line))
	r, _ := c.post(aCommand, shell, "PT5S", `<rsp:CommandLine><rsp:Command><![CDATA[`+line+`]]></rsp:Command></rsp:CommandLine>`)
	if r.Status != 200 || r.CommandID == "" {
		c.t.Fatalf("command %q: %+v", line, r)
	}
	return r.CommandID
}

func (c *rawClient) receive(shell, cmd, opTimeout string) response {
	c.t.Helper()
	r, _ := c.post(aReceive, shell, opTimeout, `<rsp:Receive><rsp:DesiredStream CommandId="`+cmd+`">stdout stderr</rsp:DesiredStream></rsp:Receive>`)
	return r
}

func (c *rawClient) signal(shell, cmd, code string) response {
	c.t.Helper()
	r, _ := c.post(aSignal, shell, "PT5S", `<rsp:Signal CommandId="`+cmd+`"><rsp:Code>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/`+code+`</rsp:Code></rsp:Signal>`)
	return r
}

// receiveAll loops Receive until Done, retrying TimedOut faults like clients do.
func (c *rawClient) receiveAll(shell, cmd string) (stdout, stderr string, code int) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := c.receive(shell, cmd, "PT1S")
		if r.FaultCode == "2150858793" {
			continue
		}
		if r.Status != 200 {
			c.t.Fatalf("receive: %+v", r)
		}
		stdout += r.stream("stdout")
		stderr += r.stream("stderr")
		if r.done() {
			if r.State.ExitCode == nil {
				c.t.Fatal("Done without ExitCode")
			}
			return stdout, stderr, *r.State.ExitCode
		}
	}
	c.t.Fatal("command did not finish")
	return "", "", 0
}
