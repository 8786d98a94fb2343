// Package winrm is patchrun's WinRM transport: a transport.Transport over
// github.com/masterzen/winrm for Windows hosts.
//
// What it adds to the library:
//   - its own transporter for NTLM, on github.com/bodgit/ntlmssp: one
//     NTLMv2 handshake per TCP connection and exactly one connection per
//     client, so requests never split a handshake across connections (the
//     host binds NTLM to the connection); messages sealed over plain HTTP
//     (what a default Windows listener demands) and every response
//     unsealed and verified, plain SOAP over HTTPS or to a host that
//     allows unencrypted traffic; our dialer, TLS settings and timeouts;
//     and no fallback to unsealed NTLM or Basic ever (the library's NTLM
//     and Encryption fall back, which would let a man in the middle
//     offering only Basic read the password);
//   - a security policy checked before any network contact (Basic only over
//     HTTPS unless explicitly allowed, TLS verified, Kerberos only where its
//     traffic is protected or explicitly allowed);
//   - a guard decorator around the library's HTTP transporter that turns
//     SOAP faults, empty or malformed bodies and library panics into typed
//     errors (*WSManFault, *ProtocolError) and classifies network failures
//     into transport.ErrUnreachable / ErrAuth / ErrHostKey / ErrConnLost;
//   - a watchdog on every library call, so a host that hangs (for example
//     one shutting down) never hangs a worker;
//   - one reused remote shell per Client, recycled every N commands,
//     recreated once when the host lost it (reboot), deleted on Close;
//   - PowerShell helpers: -EncodedCommand lines, chunked hash-verified
//     upload for long scripts and files, CLIXML stderr decoding. Running
//     PowerShell is the transport's job (its own Upload runs a PowerShell
//     step, and cmd.exe's line limit is a property of the WinRM shell);
//     what a script prints and how a result is framed is the script
//     protocol's, in patch/windows.
//
// A Client belongs to one worker; its operations are serialized.
package winrm
