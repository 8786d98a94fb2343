package winrmemu

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Namespaces of MS-WSMV messages.
const (
	nsSOAP     = "http://www.w3.org/2003/05/soap-envelope"
	nsAddr     = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	nsWSMan    = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsMSWSMan  = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
	nsShell    = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsFault    = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"

	addrAnonymous = nsAddr + "/role/anonymous"
	uriCmdShell   = nsShell + "/cmd"
)

// Actions the emulator understands, and their responses.
const (
	actionCreate          = nsTransfer + "/Create"
	actionCreateResponse  = nsTransfer + "/CreateResponse"
	actionDelete          = nsTransfer + "/Delete"
	actionDeleteResponse  = nsTransfer + "/DeleteResponse"
	actionCommand         = nsShell + "/Command"
	actionCommandResponse = nsShell + "/CommandResponse"
	actionReceive         = nsShell + "/Receive"
	actionReceiveResponse = nsShell + "/ReceiveResponse"
	actionSend            = nsShell + "/Send"
	actionSendResponse    = nsShell + "/SendResponse"
	actionSignal          = nsShell + "/Signal"
	actionSignalResponse  = nsShell + "/SignalResponse"
	actionFault           = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

	stateRunning = nsShell + "/CommandState/Running"
	stateDone    = nsShell + "/CommandState/Done"
)

// request is the parsed part of a client envelope the emulator acts on.
type request struct {
	XMLName xml.Name  `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  reqHeader `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body    reqBody   `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type reqHeader struct {
	Action           string     `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
	MessageID        string     `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
	ResourceURI      string     `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
	OperationTimeout string     `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
	MaxEnvelopeSize  string     `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd MaxEnvelopeSize"`
	Selectors        []selector `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet>Selector"`
	Options          []selector `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OptionSet>Option"`
}

type selector struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

type reqBody struct {
	Shell       *reqShell       `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
	CommandLine *reqCommandLine `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
	Receive     *reqReceive     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
	Send        *reqSend        `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
	Signal      *reqSignal      `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
}

type reqShell struct {
	InputStreams     string     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell InputStreams"`
	OutputStreams    string     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell OutputStreams"`
	WorkingDirectory string     `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell WorkingDirectory"`
	Variables        []selector `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Environment>Variable"`
}

type reqCommandLine struct {
	Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
	Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
}

type reqReceive struct {
	DesiredStream struct {
		CommandID string `xml:"CommandId,attr"`
		Streams   string `xml:",chardata"`
	} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
}

type reqSend struct {
	Streams []reqStream `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
}

type reqStream struct {
	Name      string `xml:"Name,attr"`
	CommandID string `xml:"CommandId,attr"`
	End       string `xml:"End,attr"`
	Data      string `xml:",chardata"`
}

type reqSignal struct {
	CommandID string `xml:"CommandId,attr"`
	Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
}

func parseRequest(body []byte) (*request, error) {
	var r request
	if err := xml.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("parse envelope: %w", err)
	}
	r.Header.Action = strings.TrimSpace(r.Header.Action)
	r.Header.MessageID = strings.TrimSpace(r.Header.MessageID)
	return &r, nil
}

// shellID is the ShellId selector, if any.
func (r *request) shellID() string {
	for _, s := range r.Header.Selectors {
		if strings.EqualFold(s.Name, "ShellId") {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

// operationTimeout is w:OperationTimeout, or def when absent or unparsable.
func (r *request) operationTimeout(def time.Duration) time.Duration {
	d, err := parseXSDuration(r.Header.OperationTimeout)
	if err != nil || d <= 0 {
		return def
	}
	return d
}

// parseXSDuration parses the xs:duration subset clients send: PnDTnHnMn.nS.
func parseXSDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "P") {
		return 0, fmt.Errorf("duration %q: no leading P", s)
	}
	var total time.Duration
	inTime := false
	num := ""
	for _, c := range s[1:] {
		switch {
		case c == 'T':
			inTime = true
		case (c >= '0' && c <= '9') || c == '.':
			num += string(c)
		default:
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("duration %q: %w", s, err)
			}
			num = ""
			var unit time.Duration
			switch {
			case c == 'D' && !inTime:
				unit = 24 * time.Hour
			case c == 'H' && inTime:
				unit = time.Hour
			case c == 'M' && inTime:
				unit = time.Minute
			case c == 'S' && inTime:
				unit = time.Second
			default:
				return 0, fmt.Errorf("duration %q: unsupported unit %q", s, c)
			}
			total += time.Duration(f * float64(unit))
		}
	}
	if num != "" {
		return 0, fmt.Errorf("duration %q: trailing number", s)
	}
	return total, nil
}

// newUUID returns a random (version 4) UUID in upper case, as Windows
// spells shell and command ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// envelope builds a response with the addressing header every client
// checks: Action, a fresh MessageID, To=anonymous and RelatesTo the
// request's MessageID.
func envelope(action, relatesTo, body string) []byte {
	var b bytes.Buffer
	b.WriteString(`<s:Envelope xml:lang="en-US" xmlns:s="` + nsSOAP + `" xmlns:a="` + nsAddr +
		`" xmlns:x="` + nsTransfer + `" xmlns:w="` + nsWSMan + `" xmlns:rsp="` + nsShell +
		`" xmlns:p="` + nsMSWSMan + `"><s:Header>`)
	b.WriteString(`<a:Action>` + esc(action) + `</a:Action>`)
	b.WriteString(`<a:MessageID>uuid:` + newUUID() + `</a:MessageID>`)
	b.WriteString(`<a:To>` + addrAnonymous + `</a:To>`)
	b.WriteString(`<a:RelatesTo>` + esc(relatesTo) + `</a:RelatesTo>`)
	b.WriteString(`</s:Header><s:Body>`)
	b.WriteString(body)
	b.WriteString(`</s:Body></s:Envelope>`)
	return b.Bytes()
}

// esc escapes text for element content and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
