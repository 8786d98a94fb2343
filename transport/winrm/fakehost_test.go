package winrm

import (
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeHost is a small WS-Man responder for this package's tests: enough of
// Create/Command/Receive/Send/Signal/Delete to drive the library, with
// hooks to inject faults, drops and hangs. The full emulator (Basic, NTLM,
// sealing, TLS) lives in internal/winrmemu.
//
// Concurrency: handler goroutines share the fields behind mu.
type fakeHost struct {
	t    *testing.T
	srv  *httptest.Server
	user string
	pass string

	// exec decides what a command line does (nil: echo the line, exit 0).
	exec func(line string, stdin []byte) fakeOutcome
	// hook may answer a request itself (fault injection); n counts the
	// requests with that action so far, starting at 1.
	hook func(w http.ResponseWriter, r *http.Request, action string, n int) bool

	release chan struct{} // closed at cleanup: hung handlers return

	mu       sync.Mutex
	sawBasic int // requests that carried a Basic credential
	counts   map[string]int
	shells   map[string]bool
	cmds     map[string]*fakeCmd
	nextID   int
	lines    []string
	received int
}

type fakeOutcome struct {
	stdout, stderr string
	exit           int
	timeouts       int  // TimedOut faults before the output
	waitStdin      bool // answer TimedOut until stdin ends
}

type fakeCmd struct {
	out       *fakeOutcome // decided once, so a side-effecting exec runs once
	line      string
	stdin     []byte
	stdinDone bool
	receives  int
}

func newFakeHost(t *testing.T) *fakeHost {
	t.Helper()
	h := &fakeHost{t: t, user: "admin", pass: "s3cret", release: make(chan struct{}),
		counts: map[string]int{}, shells: map[string]bool{}, cmds: map[string]*fakeCmd{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() { close(h.release) }) // runs first: frees hung handlers
	return h
}

// config is a Basic-over-HTTP config for this host with short timeouts.
func (h *fakeHost) config() Config {
	u, _ := url.Parse(h.srv.URL)
	port, _ := strconv.Atoi(u.Port())
	return Config{
		Address: u.Hostname(), Port: port, Auth: AuthBasic, AllowBasicHTTP: true,
		User: h.user, Password: h.pass,
		OperationTimeout: time.Second, ResponseTimeout: 2 * time.Second,
		ConnectTimeout: time.Second, CallTimeout: time.Second,
	}
}

func (h *fakeHost) count(action string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[action]
}

func (h *fakeHost) liveShells() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.shells)
}

func (h *fakeHost) commandLines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.lines...)
}

var (
	reAction  = regexp.MustCompile(`<(?:\w+:)?Action[^>]*>([^<]+)<`)
	reMsgID   = regexp.MustCompile(`<(?:\w+:)?MessageID[^>]*>([^<]+)<`)
	reShellID = regexp.MustCompile(`Name="ShellId"[^>]*>([^<]+)<`)
	reCmdID   = regexp.MustCompile(`CommandId="([^"]+)"`)
	reCommand = regexp.MustCompile(`(?s)<!\[CDATA\[(.*?)\]\]>`)
	reStdin   = regexp.MustCompile(`Name="stdin"[^>]*>([^<]*)<`)
)

func match(re *regexp.Regexp, s string) string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

func (h *fakeHost) serve(w http.ResponseWriter, r *http.Request) {
	u, p, ok := r.BasicAuth()
	if ok {
		h.mu.Lock()
		h.sawBasic++
		h.mu.Unlock()
	}
	if !ok || u != h.user || p != h.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="WSMAN"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	body := string(raw)
	action := match(reAction, body)
	short := action[strings.LastIndex(action, "/")+1:]
	h.mu.Lock()
	h.counts[short]++
	n := h.counts[short]
	h.mu.Unlock()
	if h.hook != nil && h.hook(w, r, short, n) {
		return
	}
	relates := match(reMsgID, body)
	shell := match(reShellID, body)

	h.mu.Lock()
	defer h.mu.Unlock()
	if short != "Create" && !h.shells[shell] {
		writeFault(w, relates, FaultInvalidSelectors, "w:InvalidSelectors", "The WS-Management service cannot process the request because the request contained invalid selectors for the resource.")
		return
	}
	switch short {
	case "Create":
		h.nextID++
		id := fmt.Sprintf("SHELL-%d", h.nextID)
		h.shells[id] = true
		writeEnvelope(w, relates, "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
			`<x:ResourceCreated><a:Address>x</a:Address><a:ReferenceParameters><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">`+id+`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated><rsp:Shell><rsp:ShellId>`+id+`</rsp:ShellId></rsp:Shell>`)
	case "Delete":
		delete(h.shells, shell)
		writeEnvelope(w, relates, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", "")
	case "Command":
		h.nextID++
		id := fmt.Sprintf("CMD-%d", h.nextID)
		line := html.UnescapeString(match(reCommand, body))
		h.cmds[id] = &fakeCmd{line: line}
		h.lines = append(h.lines, line)
		writeEnvelope(w, relates, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse",
			`<rsp:CommandResponse><rsp:CommandId>`+id+`</rsp:CommandId></rsp:CommandResponse>`)
	case "Send":
		c := h.cmds[match(reCmdID, body)]
		data, _ := base64.StdEncoding.DecodeString(match(reStdin, body))
		c.stdin = append(c.stdin, data...)
		if strings.Contains(body, `End="true"`) {
			c.stdinDone = true
		}
		writeEnvelope(w, relates, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse", `<rsp:SendResponse/>`)
	case "Signal":
		writeEnvelope(w, relates, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse", `<rsp:SignalResponse/>`)
	case "Receive":
		id := match(reCmdID, body)
		c := h.cmds[id]
		c.receives++
		if c.out == nil {
			out := fakeOutcome{stdout: c.line + "\r\n"}
			if h.exec != nil {
				out = h.exec(c.line, c.stdin)
			}
			if out.waitStdin && !c.stdinDone {
				writeFault(w, relates, FaultTimedOut, "w:TimedOut", "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")
				return
			}
			c.out = &out
		}
		out := *c.out
		if c.receives <= out.timeouts {
			writeFault(w, relates, FaultTimedOut, "w:TimedOut", "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")
			return
		}
		h.received++
		var streams strings.Builder
		for _, s := range []struct{ name, data string }{{"stdout", out.stdout}, {"stderr", out.stderr}} {
			if s.data != "" {
				fmt.Fprintf(&streams, `<rsp:Stream Name="%s" CommandId="%s">%s</rsp:Stream>`, s.name, id, base64.StdEncoding.EncodeToString([]byte(s.data)))
			}
			fmt.Fprintf(&streams, `<rsp:Stream Name="%s" CommandId="%s" End="true"></rsp:Stream>`, s.name, id)
		}
		writeEnvelope(w, relates, "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/ReceiveResponse",
			`<rsp:ReceiveResponse>`+streams.String()+`<rsp:CommandState CommandId="`+id+`" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"><rsp:ExitCode>`+strconv.Itoa(out.exit)+`</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`)
	default:
		h.t.Errorf("fake host: unexpected action %q", action)
		w.WriteHeader(http.StatusBadRequest)
	}
}

const envelopeFmt = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"><s:Header><a:Action>%s</a:Action><a:MessageID>uuid:00000000-0000-0000-0000-000000000001</a:MessageID><a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>%s</a:RelatesTo></s:Header><s:Body>%s</s:Body></s:Envelope>`

func writeEnvelope(w http.ResponseWriter, relates, action, body string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	fmt.Fprintf(w, envelopeFmt, action, relates, body)
}

func faultBody(code uint32, subcode, text string) string {
	return fmt.Sprintf(envelopeFmt, "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", "uuid:x",
		fmt.Sprintf(`<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail><f:WSManFault Code="%d" Machine="fake"><f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault>`,
			subcode, text, code, text))
}

func writeFault(w http.ResponseWriter, _ string, code uint32, subcode, text string) {
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, faultBody(code, subcode, text))
}
