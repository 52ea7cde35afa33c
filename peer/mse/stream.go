package mse

import (
	"bytes"
	"crypto/rc4"
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Stream is the byte stream MSE runs over and the one it returns. It has
// the method set of peer.Stream (declared again here so that this package
// depends on aio alone); *aio.TCPConn satisfies both, and so does every
// Stream that Initiate and Accept return, so their result goes straight
// to peer.DialStreamSent or peer.ReadIncomingPrefix.
type Stream interface {
	Read(t *aio.Task, p []byte) (int, error)
	Writev(t *aio.Task, bufs [][]byte) (int, error)
	SetDeadline(at time.Time)
	SetReadDeadline(at time.Time)
	Close() error
	RemoteAddr() netip.AddrPort
}

// Method is a set of crypto methods, as the crypto_provide and
// crypto_select fields carry them: one bit each.
type Method uint32

const (
	// Plaintext: after the handshake the stream is not encrypted
	// ("plaintext-in-MSE"); only the handshake and initial payload were.
	Plaintext Method = 0x01
	// RC4: the whole stream stays RC4-encrypted.
	RC4 Method = 0x02
)

func (m Method) String() string {
	switch m {
	case 0:
		return "none"
	case Plaintext:
		return "plaintext"
	case RC4:
		return "rc4"
	case Plaintext | RC4:
		return "plaintext|rc4"
	}
	return fmt.Sprintf("method(%#x)", uint32(m))
}

// PeekLen is how many bytes IsPlaintext needs.
const PeekLen = 20

var plainHeader = []byte("\x13BitTorrent protocol")

// IsPlaintext says whether the first bytes a connecting peer sent (at
// least PeekLen of them) open a plaintext BitTorrent handshake. Anything
// else is taken for MSE: its first bytes are a random-looking public key,
// which starts with these 20 bytes with probability 2^-160.
func IsPlaintext(first []byte) bool {
	return len(first) >= PeekLen && bytes.Equal(first[:PeekLen], plainHeader)
}

// rc4Stream encrypts what is written and decrypts what is read. Reads
// decrypt in place, in the caller's buffer; writes never touch the
// caller's bytes (a Conn sends blocks straight from the shared read cache)
// but encrypt into scratch, which is reused, so a write allocates nothing
// once scratch has grown.
//
// Like the socket under it, it allows one reader and one writer at a time
// (each cipher is touched by one of them); peer.Conn never has more.
type rc4Stream struct {
	Stream   // the raw stream: deadlines, Close, RemoteAddr
	dec, enc *rc4.Cipher
	scratch  []byte
	one      [1][]byte // Writev's argument, kept to avoid an allocation
}

// scratchSize bounds the encrypted copy one write makes. 64 KiB is four
// blocks with their headers: large enough that the syscall count stays
// that of the plaintext path within a factor of a few, small enough that
// a connection does not hold much memory for it.
const scratchSize = 64 * 1024

func (s *rc4Stream) Read(t *aio.Task, p []byte) (int, error) {
	n, err := s.Stream.Read(t, p)
	s.dec.XORKeyStream(p[:n], p[:n])
	return n, err
}

// Writev encrypts bufs chunk by chunk into scratch and writes each chunk
// whole before the next: the keystream is positional, so nothing may be
// encrypted that is not then written. After an error an unknown part was
// written and the stream is out of step; the connection is done.
func (s *rc4Stream) Writev(t *aio.Task, bufs [][]byte) (int, error) {
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	if cap(s.scratch) < min(total, scratchSize) {
		s.scratch = make([]byte, min(total, scratchSize))
	}
	written := 0
	buf := s.scratch[:0]
	for i := 0; i < len(bufs); {
		b := bufs[i]
		n := min(len(b), cap(buf)-len(buf))
		k := len(buf)
		buf = buf[:k+n]
		s.enc.XORKeyStream(buf[k:], b[:n])
		if bufs[i] = b[n:]; len(bufs[i]) == 0 {
			i++
		}
		if len(buf) > 0 && (len(buf) == cap(buf) || i == len(bufs)) {
			s.one[0] = buf
			m, err := s.Stream.Writev(t, s.one[:])
			s.one[0] = nil
			written += m
			if err != nil {
				return written, err
			}
			buf = buf[:0]
		}
	}
	return written, nil
}

// newRC4Stream wraps s; dec and enc continue the keystreams the
// handshake started.
func newRC4Stream(s Stream, dec, enc *rc4.Cipher) *rc4Stream {
	return &rc4Stream{Stream: s, dec: dec, enc: enc}
}
