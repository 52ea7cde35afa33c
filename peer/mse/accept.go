package mse

import (
	"crypto/rc4"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// SKeyLookup finds the torrent an incoming handshake asks for from
// HASH('req2', infoHash), which is all the initiator reveals of it; see
// Req2. It runs on the loop thread.
type SKeyLookup func(req2 [20]byte) (infoHash [20]byte, ok bool)

// LookupList is an SKeyLookup over a fixed set of info hashes, for a
// caller with few torrents or one that builds the set per connection
// (sessions and magnet fetches). A client with many torrents keeps its own
// map from Req2 to info hash instead.
func LookupList(infoHashes ...[20]byte) SKeyLookup {
	byReq2 := make(map[[20]byte][20]byte, len(infoHashes))
	for _, ih := range infoHashes {
		byReq2[Req2(ih)] = ih
	}
	return func(req2 [20]byte) ([20]byte, bool) {
		ih, ok := byReq2[req2]
		return ih, ok
	}
}

// Accepted is the outcome of a receiving handshake.
type Accepted struct {
	// Stream is where the wire protocol continues: the raw stream for
	// Plaintext, an RC4 stream on it for RC4.
	Stream Stream
	// Method is the one we selected.
	Method Method
	// InfoHash is the torrent the initiator asked for.
	InfoHash [20]byte
	// InitialPayload is what the initiator sent inside the handshake,
	// decrypted: normally its BitTorrent handshake, to be handed to
	// peer.ReadIncomingPrefix as bytes already read.
	InitialPayload []byte
}

// Accept runs the receiving side (B) of the handshake on s, a connection
// whose first bytes the caller may have read already to tell MSE from
// plaintext (IsPlaintext): prefix holds them, at most the 96 bytes of a
// public key. lookup names the torrent the initiator asks for; allowed is
// the set of methods we accept, of which we select RC4 when the initiator
// provides it too, else Plaintext. timeout > 0 bounds the whole handshake;
// 0 means no limit. On error s is closed and the error wraps one of the
// package's sentinels, aio.ErrTimeout, or the stream's error.
func Accept(t *aio.Task, s Stream, prefix []byte, lookup SKeyLookup, allowed Method, timeout time.Duration) (Accepted, error) {
	var acc Accepted
	var err error
	switch {
	case allowed == 0 || allowed&^(Plaintext|RC4) != 0:
		err = fmt.Errorf("allowed %v: want Plaintext, RC4 or both", allowed)
	case len(prefix) > keyLen:
		err = fmt.Errorf("%d bytes read before the handshake, more than a key", len(prefix))
	default:
		err = within(t, timeout, func(t *aio.Task) error {
			var err error
			acc, err = accept(t, s, prefix, lookup, allowed)
			return err
		})
	}
	if err != nil {
		s.Close()
		return Accepted{}, fmt.Errorf("mse: accept from %s: %w", s.RemoteAddr(), err)
	}
	return acc, nil
}

func accept(t *aio.Task, s Stream, prefix []byte, lookup SKeyLookup, allowed Method) (Accepted, error) {
	r := hsReader{s: s, prefix: prefix}
	var ya [keyLen]byte
	if err := r.readFull(t, ya[:]); err != nil {
		return Accepted{}, fmt.Errorf("reading key: %w", err)
	}
	type keys struct {
		k      *keyPair
		secret [keyLen]byte
	}
	ks, err := aio.Blocking(t, func() (keys, error) {
		k, err := newKeyPair()
		if err != nil {
			return keys{}, err
		}
		secret, err := k.secret(ya[:])
		return keys{k, secret}, err
	})
	if err != nil {
		return Accepted{}, err
	}
	if err := writeAll(t, s, ks.k.public[:], ks.k.pad); err != nil {
		return Accepted{}, fmt.Errorf("sending key: %w", err)
	}
	req1 := hash([]byte("req1"), ks.secret[:])
	buf := make([]byte, maxPad+len(req1)) // PadA, later PadC
	if _, err := r.scan(t, req1[:], buf); err != nil {
		return Accepted{}, fmt.Errorf("looking for req1: %w", err)
	}
	var obf [20]byte
	if err := r.readFull(t, obf[:]); err != nil {
		return Accepted{}, fmt.Errorf("reading req2^req3: %w", err)
	}
	ih, ok := lookup(req3xor(obf, &ks.secret))
	if !ok {
		return Accepted{}, ErrUnknownTorrent
	}
	dec, enc := ciphers(&ks.secret, ih)
	provide, ia, err := readProvide(t, &r, dec, buf)
	if err != nil {
		return Accepted{}, err
	}
	sel := choose(provide & allowed)
	if sel == 0 {
		return Accepted{}, fmt.Errorf("provided %v, allowed %v: %w", provide, allowed, ErrNoSharedMethod)
	}
	if err := writeAll(t, s, step4(sel, enc)); err != nil {
		return Accepted{}, fmt.Errorf("sending crypto_select: %w", err)
	}
	acc := Accepted{Stream: s, Method: sel, InfoHash: ih, InitialPayload: ia}
	if sel == RC4 {
		acc.Stream = newRC4Stream(s, dec, enc)
	}
	return acc, nil
}

// readProvide reads and decrypts the encrypted part of step 3: VC,
// crypto_provide, PadC and the initial payload, using buf (at least
// maxPad bytes) for PadC.
func readProvide(t *aio.Task, r *hsReader, dec *rc4.Cipher, buf []byte) (Method, []byte, error) {
	var hdr [vcLen + 4 + 2]byte // VC, crypto_provide, len(PadC)
	if err := r.readFull(t, hdr[:]); err != nil {
		return 0, nil, fmt.Errorf("reading crypto_provide: %w", err)
	}
	dec.XORKeyStream(hdr[:], hdr[:])
	if [vcLen]byte(hdr[:vcLen]) != [vcLen]byte{} {
		return 0, nil, fmt.Errorf("verification constant %x: %w", hdr[:vcLen], ErrSync)
	}
	provide := Method(binary.BigEndian.Uint32(hdr[vcLen:]))
	padC := int(binary.BigEndian.Uint16(hdr[vcLen+4:]))
	if padC > maxPad {
		return 0, nil, fmt.Errorf("PadC of %d bytes: %w", padC, ErrPadding)
	}
	var n [2]byte
	if err := r.readFull(t, buf[:padC]); err != nil {
		return 0, nil, fmt.Errorf("reading PadC: %w", err)
	}
	if err := r.readFull(t, n[:]); err != nil {
		return 0, nil, fmt.Errorf("reading len(IA): %w", err)
	}
	dec.XORKeyStream(buf[:padC], buf[:padC])
	dec.XORKeyStream(n[:], n[:])
	lenIA := int(binary.BigEndian.Uint16(n[:]))
	if lenIA > MaxInitialPayload {
		return 0, nil, fmt.Errorf("%d bytes: %w", lenIA, ErrPayloadTooLong)
	}
	ia := make([]byte, lenIA)
	if err := r.readFull(t, ia); err != nil {
		return 0, nil, fmt.Errorf("reading the initial payload: %w", err)
	}
	dec.XORKeyStream(ia, ia)
	return provide, ia, nil
}

// choose picks one method of the set. When both are there, Plaintext, as
// libtorrent does unless told prefer_rc4: the handshake is obfuscated
// either way, and RC4 over the payload costs the loop thread a core at
// about 150 MB/s. A receiver that wants RC4 only allows RC4.
func choose(m Method) Method {
	switch {
	case m&Plaintext != 0:
		return Plaintext
	case m&RC4 != 0:
		return RC4
	}
	return 0
}

// step4 is B's answer: VC, crypto_select and an empty PadD, encrypted.
func step4(sel Method, enc *rc4.Cipher) []byte {
	msg := make([]byte, vcLen, vcLen+4+2)
	msg = binary.BigEndian.AppendUint32(msg, uint32(sel))
	msg = binary.BigEndian.AppendUint16(msg, 0) // len(PadD)
	enc.XORKeyStream(msg, msg)
	return msg
}
