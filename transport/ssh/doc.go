// Package ssh is patchrun's SSH transport: an x/crypto/ssh client that
// implements transport.Transport against real OpenSSH servers.
//
// One Client holds one TCP connection (optionally through a ProxyJump host);
// every Run opens a new session on it, so a host's phases reuse the
// connection. Host keys are always verified against a known_hosts file
// (KnownHosts); keepalives turn a silently dead peer into ErrConnLost; a
// handshake the server drops (sshd MaxStartups) is retried with backoff.
// All library error text is interpreted in one place, classify.
package ssh
