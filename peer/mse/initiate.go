package mse

import (
	"crypto/rc4"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Initiate runs the connecting side (A) of the handshake on s for the
// torrent infoHash, offering the methods in provide, and sends
// initialPayload (at most MaxInitialPayload bytes; usually our
// BitTorrent handshake, then read the peer's with peer.DialStreamSent)
// inside it. timeout > 0 bounds the whole handshake, key computation
// included; 0 means no limit.
//
// It returns the stream to speak the wire protocol on, which is s itself
// when the peer selected Plaintext, and the selected method. On error s is
// closed and the error wraps one of the package's sentinels, aio.ErrTimeout,
// or the stream's error (io.ErrUnexpectedEOF when the peer hangs up, as a
// plaintext-only peer does).
func Initiate(t *aio.Task, s Stream, infoHash [20]byte, provide Method, initialPayload []byte, timeout time.Duration) (Stream, Method, error) {
	var (
		out Stream
		sel Method
	)
	err := checkOffer(provide, initialPayload)
	if err == nil {
		err = within(t, timeout, func(t *aio.Task) error {
			var err error
			out, sel, err = initiate(t, s, infoHash, provide, initialPayload)
			return err
		})
	}
	if err != nil {
		s.Close()
		return nil, 0, fmt.Errorf("mse: initiate to %s: %w", s.RemoteAddr(), err)
	}
	return out, sel, nil
}

func checkOffer(provide Method, ia []byte) error {
	if provide == 0 || provide&^(Plaintext|RC4) != 0 {
		return fmt.Errorf("provide %v: want Plaintext, RC4 or both", provide)
	}
	if len(ia) > MaxInitialPayload {
		return fmt.Errorf("%d bytes: %w", len(ia), ErrPayloadTooLong)
	}
	return nil
}

// within runs fn under a deadline scope of d, or none when d is 0.
func within(t *aio.Task, d time.Duration, fn func(t *aio.Task) error) error {
	if d <= 0 {
		return fn(t)
	}
	return aio.Timeout(t, d, fn)
}

func initiate(t *aio.Task, s Stream, infoHash [20]byte, provide Method, ia []byte) (Stream, Method, error) {
	k, err := aio.Blocking(t, newKeyPair)
	if err != nil {
		return nil, 0, err
	}
	if err := writeAll(t, s, k.public[:], k.pad); err != nil {
		return nil, 0, fmt.Errorf("sending key: %w", err)
	}
	r := hsReader{s: s}
	var yb [keyLen]byte
	if err := r.readFull(t, yb[:]); err != nil {
		return nil, 0, fmt.Errorf("reading key: %w", err)
	}
	secret, err := aio.Blocking(t, func() ([keyLen]byte, error) { return k.secret(yb[:]) })
	if err != nil {
		return nil, 0, err
	}
	enc, dec := ciphers(&secret, infoHash)
	if err := writeAll(t, s, step3(&secret, infoHash, provide, ia, enc)); err != nil {
		return nil, 0, fmt.Errorf("sending crypto_provide: %w", err)
	}

	// Step 4. The VC's ciphertext is the first eight bytes of B's
	// keystream; computing it once leaves dec just past the VC, where it
	// must be once the scan has found it.
	vc := make([]byte, vcLen)
	dec.XORKeyStream(vc, vc)
	buf := make([]byte, maxPad+vcLen)
	if _, err := r.scan(t, vc, buf); err != nil {
		return nil, 0, fmt.Errorf("looking for the VC: %w", err)
	}
	var hdr [6]byte // crypto_select, len(PadD)
	if err := r.readFull(t, hdr[:]); err != nil {
		return nil, 0, fmt.Errorf("reading crypto_select: %w", err)
	}
	dec.XORKeyStream(hdr[:], hdr[:])
	sel := Method(binary.BigEndian.Uint32(hdr[:4]))
	if sel != Plaintext && sel != RC4 || sel&provide == 0 {
		return nil, 0, fmt.Errorf("selected %v, provided %v: %w", sel, provide, ErrBadSelect)
	}
	padD := int(binary.BigEndian.Uint16(hdr[4:]))
	if padD > maxPad {
		return nil, 0, fmt.Errorf("PadD of %d bytes: %w", padD, ErrPadding)
	}
	if err := r.readFull(t, buf[:padD]); err != nil {
		return nil, 0, fmt.Errorf("reading PadD: %w", err)
	}
	if sel == Plaintext {
		return s, sel, nil
	}
	dec.XORKeyStream(buf[:padD], buf[:padD])
	return newRC4Stream(s, dec, enc), sel, nil
}

// step3 is A's third message: the sync hash, the obfuscated torrent and
// the encrypted rest, with an empty PadC.
func step3(secret *[keyLen]byte, infoHash [20]byte, provide Method, ia []byte, enc *rc4.Cipher) []byte {
	msg := make([]byte, 0, 20+20+vcLen+4+2+2+len(ia))
	req1 := hash([]byte("req1"), secret[:])
	obf := req3xor(Req2(infoHash), secret)
	msg = append(msg, req1[:]...)
	msg = append(msg, obf[:]...)
	plain := len(msg)
	msg = append(msg, make([]byte, vcLen)...)
	msg = binary.BigEndian.AppendUint32(msg, uint32(provide))
	msg = binary.BigEndian.AppendUint16(msg, 0) // len(PadC)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(ia)))
	msg = append(msg, ia...)
	enc.XORKeyStream(msg[plain:], msg[plain:])
	return msg
}

// writeAll writes bufs in one Writev: a handshake step leaves in one
// segment where it fits, as the spec's packet-size analysis assumes.
func writeAll(t *aio.Task, s Stream, bufs ...[]byte) error {
	_, err := s.Writev(t, bufs)
	return err
}
