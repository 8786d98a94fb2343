package winrm

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WSManFault codes patchrun reacts to (the f:WSManFault Code attribute).
const (
	FaultTimedOut            uint32 = 2150858793 // Receive found no output within OperationTimeout
	FaultInvalidSelectors    uint32 = 2150858843 // shell not found, e.g. after a reboot
	FaultMaxShells           uint32 = 2150859173 // MaxShellsPerUser exceeded
	FaultMaxConcurrentOps    uint32 = 2150859174 // MaxConcurrentOperationsPerUser exceeded
	FaultAccessDenied        uint32 = 2147942405 // 0x80070005
	operationTimeoutFragment        = "OperationTimeout"
)

// WSManFault is a SOAP fault returned by the host. The library hands faults
// back as ordinary bodies; the guard turns them into this error.
type WSManFault struct {
	Code    uint32 // f:WSManFault Code, 0 if absent
	Subcode string // e.g. "w:TimedOut"
	Text    string // s:Reason/s:Text, or the f:Message when there is no reason
}

func (f *WSManFault) Error() string {
	msg := fmt.Sprintf("wsman fault %d", f.Code)
	if f.Subcode != "" {
		msg += " (" + f.Subcode + ")"
	}
	if f.Text != "" {
		msg += ": " + f.Text
	}
	// The library retries a Receive only when the error text names
	// OperationTimeout; keep that true for every timed-out fault.
	if f.TimedOut() && !strings.Contains(msg, operationTimeoutFragment) {
		msg += " (" + operationTimeoutFragment + ")"
	}
	return msg
}

// TimedOut reports the harmless "no output yet" fault of a Receive.
func (f *WSManFault) TimedOut() bool {
	return f.Code == FaultTimedOut || strings.HasSuffix(f.Subcode, ":TimedOut") || f.Subcode == "TimedOut"
}

// ShellGone reports that the shell named in the request no longer exists.
func (f *WSManFault) ShellGone() bool {
	return f.Code == FaultInvalidSelectors || strings.HasSuffix(f.Subcode, ":InvalidSelectors")
}

// ProtocolError is a response the library could not safely handle: an empty
// or non-XML body, or a panic inside the library.
type ProtocolError struct {
	Reason  string
	Excerpt string // bounded excerpt of the body, for diagnosis
}

func (e *ProtocolError) Error() string {
	if e.Excerpt == "" {
		return "winrm protocol error: " + e.Reason
	}
	return fmt.Sprintf("winrm protocol error: %s: %q", e.Reason, e.Excerpt)
}

const excerptMax = 200

// excerpt returns at most excerptMax bytes of s.
func excerpt(s string) string {
	if len(s) > excerptMax {
		return s[:excerptMax] + "…"
	}
	return s
}

// checkBody validates a SOAP response before the library parses it: the
// library panics on empty or malformed XML and treats faults as success.
// It returns nil for a well-formed, fault-free envelope.
func checkBody(body string) error {
	trimmed := strings.TrimLeft(body, " \t\r\n\ufeff")
	if trimmed == "" {
		return &ProtocolError{Reason: "empty response body"}
	}
	if trimmed[0] != '<' {
		return &ProtocolError{Reason: "response is not XML", Excerpt: excerpt(trimmed)}
	}
	hasFault, err := scanXML(trimmed)
	if err != nil {
		return &ProtocolError{Reason: "malformed XML response (" + err.Error() + ")", Excerpt: excerpt(trimmed)}
	}
	if hasFault {
		return parseFault(trimmed)
	}
	return nil
}

// scanXML checks that s is well-formed XML and reports whether it holds a
// SOAP Fault element.
func scanXML(s string) (bool, error) {
	dec := xml.NewDecoder(strings.NewReader(s))
	fault, elements := false, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			elements++
			if se.Name.Local == "Fault" {
				fault = true
			}
		}
	}
	if elements == 0 {
		return false, fmt.Errorf("no element")
	}
	return fault, nil
}

type soapFaultEnvelope struct {
	Body struct {
		Fault struct {
			Code struct {
				Value   string `xml:"Value"`
				Subcode struct {
					Value string `xml:"Value"`
				} `xml:"Subcode"`
			} `xml:"Code"`
			Reason struct {
				Text []string `xml:"Text"`
			} `xml:"Reason"`
			Detail struct {
				WSManFault struct {
					Code    string `xml:"Code,attr"`
					Message string `xml:"Message"`
				} `xml:"WSManFault"`
			} `xml:"Detail"`
		} `xml:"Fault"`
	} `xml:"Body"`
}

// parseFault extracts the fault from a well-formed envelope known to hold one.
func parseFault(s string) *WSManFault {
	var env soapFaultEnvelope
	if err := xml.NewDecoder(bytes.NewReader([]byte(s))).Decode(&env); err != nil {
		return &WSManFault{Text: "unparsable fault: " + excerpt(s)}
	}
	f := env.Body.Fault
	out := &WSManFault{Subcode: strings.TrimSpace(f.Code.Subcode.Value)}
	if out.Subcode == "" {
		out.Subcode = strings.TrimSpace(f.Code.Value)
	}
	if code, err := strconv.ParseUint(strings.TrimSpace(f.Detail.WSManFault.Code), 10, 32); err == nil {
		out.Code = uint32(code)
	}
	out.Text = strings.TrimSpace(strings.Join(f.Reason.Text, " "))
	if out.Text == "" {
		out.Text = strings.TrimSpace(f.Detail.WSManFault.Message)
	}
	return out
}
