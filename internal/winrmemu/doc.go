// Package winrmemu is an in-process WinRM (WS-Management) server for tests
// and `patchrun demo`, faithful enough on the wire that unmodified clients
// (masterzen/winrm, pywinrm) run commands against it: Basic and NTLMv2
// authentication with per-connection state, NTLM message sealing
// (multipart/encrypted), HTTPS with a throwaway CA, a Receive that blocks
// until output or the request's OperationTimeout (then the w:TimedOut fault
// clients retry on), shell and operation quotas, and injectable failures:
// refused logons, dropped connections, slow Receives, access denied, and a
// host that goes down (connections refused) and comes back with every old
// shell answering InvalidSelectors.
//
// The package owns the protocol; what a command does is a Handler's job:
//
//	srv, err := winrmemu.New(winrmemu.Config{
//		Users:            map[string]string{"Administrator": "pw"},
//		AllowUnencrypted: false, // NTLM must seal over HTTP, as on Windows
//		Handler:          myWindowsHost, // implements Handler; CmdHandler{} by default
//	})
//	addr, err := srv.Start(ctx)
//	defer srv.Close() // joins every goroutine, terminates every command
//	...
//	srv.DownFor(3 * time.Second) // a reboot: refused, then back with no shells
//
// Limits: cmd shell resource only (no PowerShell remoting/PSRP, no
// Enumerate/Get of WMI resources), NTLM only with extended session
// security (every current client), no Kerberos/CredSSP, no channel-binding
// check, no idle-shell expiry.
package winrmemu
