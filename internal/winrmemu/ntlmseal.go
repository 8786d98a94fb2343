package winrmemu

import (
	"crypto/hmac"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"fmt"
)

// errSeal marks a message that failed to unseal (bad signature or sequence).
var errSeal = errors.New("ntlm unseal failed")

var (
	magicClientSign = []byte("session key to client-to-server signing key magic constant\x00")
	magicServerSign = []byte("session key to server-to-client signing key magic constant\x00")
	magicClientSeal = []byte("session key to client-to-server sealing key magic constant\x00")
	magicServerSeal = []byte("session key to server-to-client sealing key magic constant\x00")
)

// sealSession is one direction pair of NTLM message security (MS-NLMP 3.4,
// extended session security only). The RC4 streams and sequence numbers run
// on across messages, so a sealSession belongs to one TCP connection and its
// messages must be processed in order; the connection's mutex guards it.
type sealSession struct {
	flags           uint32
	outSign, inSign []byte
	outRC4, inRC4   *rc4.Cipher
	outSeq, inSeq   uint32
}

// newSealSession derives the keys for one side. server=true gives the
// emulator's view (outgoing = server-to-client); tests build the client's
// view with server=false.
func newSealSession(flags uint32, exportedKey []byte, server bool) (*sealSession, error) {
	if flags&flagExtendedSession == 0 {
		return nil, fmt.Errorf("sealing without extended session security is not supported: %w", errNTLM)
	}
	n := 5
	switch {
	case flags&flag128 != 0:
		n = 16
	case flags&flag56 != 0:
		n = 7
	}
	clientSeal := md5Sum(exportedKey[:n], magicClientSeal)
	serverSeal := md5Sum(exportedKey[:n], magicServerSeal)
	s := &sealSession{flags: flags}
	outSeal, inSeal := serverSeal, clientSeal
	s.outSign, s.inSign = md5Sum(exportedKey, magicServerSign), md5Sum(exportedKey, magicClientSign)
	if !server {
		outSeal, inSeal = clientSeal, serverSeal
		s.outSign, s.inSign = s.inSign, s.outSign
	}
	var err error
	if s.outRC4, err = rc4.NewCipher(outSeal); err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	if s.inRC4, err = rc4.NewCipher(inSeal); err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	return s, nil
}

// seal encrypts msg and returns the sealed bytes and the 16-byte signature.
func (s *sealSession) seal(msg []byte) (sealed, sig []byte) {
	sealed = make([]byte, len(msg))
	s.outRC4.XORKeyStream(sealed, msg)
	sig = s.signature(msg, s.outSign, s.outSeq, s.outRC4)
	s.outSeq++
	return sealed, sig
}

// unseal decrypts and verifies one incoming message.
func (s *sealSession) unseal(sealed, sig []byte) ([]byte, error) {
	if len(sig) != 16 {
		return nil, fmt.Errorf("signature is %d bytes, want 16: %w", len(sig), errSeal)
	}
	msg := make([]byte, len(sealed))
	s.inRC4.XORKeyStream(msg, sealed)
	want := s.signature(msg, s.inSign, s.inSeq, s.inRC4)
	if !hmac.Equal(want[4:12], sig[4:12]) {
		return nil, fmt.Errorf("checksum mismatch: %w", errSeal)
	}
	if !hmac.Equal(want[12:], sig[12:]) {
		return nil, fmt.Errorf("sequence number mismatch (want %d): %w", s.inSeq, errSeal)
	}
	s.inSeq++
	return msg, nil
}

// signature is MAC(Handle, SigningKey, SeqNum, Message) with extended
// session security: version 1, 8 bytes of HMAC-MD5 (RC4'd with the sealing
// stream when keys were exchanged), then the sequence number.
func (s *sealSession) signature(msg, key []byte, seq uint32, stream *rc4.Cipher) []byte {
	var seqb [4]byte
	binary.LittleEndian.PutUint32(seqb[:], seq)
	checksum := hmacMD5(key, seqb[:], msg)[:8]
	if s.flags&flagKeyExch != 0 {
		stream.XORKeyStream(checksum, checksum)
	}
	sig := make([]byte, 16)
	binary.LittleEndian.PutUint32(sig, 1)
	copy(sig[4:], checksum)
	copy(sig[12:], seqb[:])
	return sig
}
