package winrmemu

import (
	"fmt"
	"strconv"
)

// WSManFault codes the emulator answers with (the f:WSManFault Code
// attribute). Clients key on these numbers: pywinrm turns CodeTimedOut into
// its silent Receive retry.
const (
	CodeTimedOut                       = 2150858793 // 0x80338029
	CodeInvalidSelectors               = 2150858843 // 0x8033805B: unknown shell, e.g. after a reboot
	CodeMaxShellsPerUser               = 2150859173 // 0x803381A5
	CodeMaxConcurrentOperationsPerUser = 2150859174 // 0x803381A6
	CodeAccessDenied                   = 2147942405 // 0x80070005
	CodeActionNotSupported             = 2150858752 // 0x80338000
	CodeSchemaValidation               = 2150858817 // 0x80338041
	CodeEncodingLimit                  = 2150858806 // 0x80338036: envelope too large
)

// Fault is a WS-Management SOAP fault. It is returned as HTTP 500.
type Fault struct {
	Code    string // s:Code/s:Value, "s:Sender" or "s:Receiver"
	Subcode string // s:Subcode/s:Value, e.g. "w:TimedOut"
	Text    string // s:Reason/s:Text
	WSMan   uint32 // f:WSManFault/@Code
}

func (f *Fault) Error() string {
	return fmt.Sprintf("wsman fault %d (%s): %s", f.WSMan, f.Subcode, f.Text)
}

func faultTimedOut() *Fault {
	return &Fault{"s:Receiver", "w:TimedOut",
		"The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
		CodeTimedOut}
}

func faultInvalidSelectors() *Fault {
	return &Fault{"s:Sender", "w:InvalidSelectors",
		"The WS-Management service cannot process the request because the request contained invalid selectors for the resource.",
		CodeInvalidSelectors}
}

func faultMaxShells(n int) *Fault {
	return &Fault{"s:Receiver", "w:InternalError",
		"The WS-Management service cannot process the request. This user is allowed a maximum number of " + strconv.Itoa(n) +
			" concurrent shells, which has been exceeded. Close existing shells or raise the quota for this user.",
		CodeMaxShellsPerUser}
}

func faultMaxOperations(n int) *Fault {
	return &Fault{"s:Receiver", "w:InternalError",
		"The WS-Management service cannot process the request. This user is allowed a maximum number of " + strconv.Itoa(n) +
			" concurrent operations, which has been exceeded. Close existing operations for this user, or raise the quota for this user.",
		CodeMaxConcurrentOperationsPerUser}
}

func faultAccessDenied() *Fault {
	return &Fault{"s:Sender", "w:AccessDenied", "Access is denied.", CodeAccessDenied}
}

func faultActionNotSupported(action string) *Fault {
	return &Fault{"s:Sender", "a:ActionNotSupported",
		"The action is not supported by the service: " + action, CodeActionNotSupported}
}

func faultSchema(detail string) *Fault {
	return &Fault{"s:Sender", "w:SchemaValidationError",
		"The SOAP XML in the message does not match the corresponding XML schema definition: " + detail, CodeSchemaValidation}
}

func faultEncodingLimit() *Fault {
	return &Fault{"s:Sender", "w:EncodingLimit",
		"The WS-Management service cannot process the request because the request envelope size exceeds the maximum allowed.",
		CodeEncodingLimit}
}

// envelope renders the fault as a full response.
func (f *Fault) envelope(relatesTo, machine string) []byte {
	body := `<s:Fault><s:Code><s:Value>` + esc(f.Code) + `</s:Value><s:Subcode><s:Value>` + esc(f.Subcode) +
		`</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">` + esc(f.Text) +
		`</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="` + nsFault + `" Code="` + strconv.FormatUint(uint64(f.WSMan), 10) +
		`" Machine="` + esc(machine) + `"><f:Message>` + esc(f.Text) + `</f:Message></f:WSManFault></s:Detail></s:Fault>`
	return envelope(actionFault, relatesTo, body)
}
