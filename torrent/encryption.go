package torrent

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/peer/mse"
	"github.com/aiotorrent/aiotorrent/tracker"
	"github.com/aiotorrent/aiotorrent/utp"
)

// Encryption is which connections we make and take: Message Stream
// Encryption (MSE, peer/mse) or plain BitTorrent. Real swarms carry peers
// that require encryption (a stock "speed-up" tip) and Transmission dials
// encrypted only by default, so the default speaks both.
type Encryption uint8

const (
	// EncryptionPrefer (the default) dials encrypted first, offering RC4
	// and plaintext-in-MSE, and falls back to a plain handshake once if
	// the peer does not speak MSE; the peer list remembers what worked.
	// Incoming connections may be either.
	EncryptionPrefer Encryption = iota
	// EncryptionRequire speaks RC4-encrypted MSE only, both ways.
	EncryptionRequire
	// EncryptionDisable speaks plain BitTorrent only, both ways.
	EncryptionDisable
)

// ParseEncryption reads "prefer", "require" or "disable".
func ParseEncryption(s string) (Encryption, error) {
	switch strings.ToLower(s) {
	case "prefer", "":
		return EncryptionPrefer, nil
	case "require":
		return EncryptionRequire, nil
	case "disable":
		return EncryptionDisable, nil
	}
	return 0, fmt.Errorf("encryption %q: want prefer, require or disable", s)
}

func (e Encryption) String() string {
	switch e {
	case EncryptionRequire:
		return "require"
	case EncryptionDisable:
		return "disable"
	}
	return "prefer"
}

// methods is what we offer or accept inside MSE.
func (e Encryption) methods() mse.Method {
	if e == EncryptionRequire {
		return mse.RC4
	}
	return mse.RC4 | mse.Plaintext
}

// trackerCrypto is what announces say of it (supportcrypto/requirecrypto).
func (e Encryption) trackerCrypto() tracker.CryptoLevel {
	switch e {
	case EncryptionRequire:
		return tracker.CryptoRequire
	case EncryptionDisable:
		return tracker.CryptoUnsaid
	}
	return tracker.CryptoSupport
}

// ErrPlainRefused wraps the error of a plain handshake that the peer cut
// off at once: the sign of a peer that requires encryption.
var ErrPlainRefused = errors.New("the peer hung up on a plain handshake: it may require encryption")

// dialResult is how a connection was made, for the peer list to remember.
type dialResult struct {
	encrypted bool // RC4 inside MSE
	viaMSE    bool // MSE was spoken (RC4 or plaintext-in-MSE)
	utp       bool // over uTP, not TCP
}

// describe is how a connection runs, for the log: "outgoing, tcp,
// encrypted".
func (d dialResult) describe(outgoing bool) string {
	s := "incoming"
	if outgoing {
		s = "outgoing"
	}
	if d.utp {
		s += ", utp"
	} else {
		s += ", tcp"
	}
	if d.encrypted {
		return s + ", encrypted"
	}
	return s + ", plain"
}

// connectFunc opens the byte stream to addr, TCP or uTP, within timeout.
type connectFunc func(t *aio.Task, addr netip.AddrPort, timeout time.Duration) (peer.Stream, error)

// connectTCP is the connectFunc for TCP.
func connectTCP(t *aio.Task, addr netip.AddrPort, timeout time.Duration) (peer.Stream, error) {
	tc, err := aio.DialTCP(t, addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err) // aio names addr
	}
	return tc, nil
}

// plainDial connects and exchanges plain handshakes, both within timeout.
func plainDial(t *aio.Task, connect connectFunc, addr netip.AddrPort, ours peer.Handshake, lim peer.Limits, timeout time.Duration) (*peer.Conn, peer.Handshake, error) {
	deadline := t.Loop().Now().Add(timeout)
	s, err := connect(t, addr, timeout)
	if err != nil {
		return nil, peer.Handshake{}, err
	}
	return peer.DialStream(t, s, ours, lim, deadline.Sub(t.Loop().Now()))
}

// dialPeer connects to addr and does the BitTorrent handshake under the
// client's encryption policy. plainFirst (from the peer list) says an
// earlier connection found the peer speaks no MSE: with EncryptionPrefer
// the plain handshake is tried first then. utpFirst (from the peer list:
// a PEX flag or an earlier uTP connection) says the peer speaks uTP:
// then uTP is tried first, and TCP once if it fails. Without that
// evidence TCP is the one tried (a peer that prefers uTP dials us over
// it itself, as libtorrent does).
func (c *Client) dialPeer(t *aio.Task, addr netip.AddrPort, infoHash [20]byte, ours peer.Handshake, lim peer.Limits, plainFirst, utpFirst bool) (*peer.Conn, peer.Handshake, dialResult, error) {
	if utpFirst && c.UTP() {
		conn, theirs, res, err := dialWith(t, c.cfg.Encryption, c.dialUTP, addr, infoHash, ours, lim, c.cfg.DialTimeout, plainFirst)
		if err == nil {
			res.utp = true
			return conn, theirs, res, nil
		}
		if errors.Is(err, peer.ErrSelf) || errors.Is(err, aio.ErrCanceled) {
			return nil, peer.Handshake{}, dialResult{}, err
		}
		c.cfg.Logf("dial %s over utp: %v; trying tcp", addr, err)
	}
	return dialWith(t, c.cfg.Encryption, connectTCP, addr, infoHash, ours, lim, c.cfg.DialTimeout, plainFirst)
}

// dialWith is dialPeer for a given policy and timeout (the metadata fetch
// dials with its own).
func dialWith(t *aio.Task, enc Encryption, connect connectFunc, addr netip.AddrPort, infoHash [20]byte, ours peer.Handshake, lim peer.Limits, timeout time.Duration, plainFirst bool) (*peer.Conn, peer.Handshake, dialResult, error) {
	switch {
	case enc == EncryptionDisable:
		conn, theirs, err := plainDial(t, connect, addr, ours, lim, timeout)
		return conn, theirs, dialResult{}, plainErr(err)
	case enc == EncryptionPrefer && plainFirst:
		conn, theirs, err := plainDial(t, connect, addr, ours, lim, timeout)
		if err == nil || !hungUp(err) {
			return conn, theirs, dialResult{}, err
		}
		// It speaks MSE after all (its settings changed): try that.
	}
	conn, theirs, res, err := dialMSE(t, enc, connect, addr, infoHash, ours, lim, timeout)
	if err == nil || enc == EncryptionRequire || !hungUp(err) || plainFirst {
		return conn, theirs, res, err
	}
	// A peer that does not speak MSE closes on our key: a plain handshake,
	// once, is what libtorrent and Transmission fall back to as well.
	conn, theirs, err = plainDial(t, connect, addr, ours, lim, timeout)
	return conn, theirs, dialResult{}, err
}

// dialMSE connects to addr, runs the MSE handshake with our BitTorrent
// handshake as its initial payload, and reads the peer's.
func dialMSE(t *aio.Task, enc Encryption, connect connectFunc, addr netip.AddrPort, infoHash [20]byte, ours peer.Handshake, lim peer.Limits, timeout time.Duration) (*peer.Conn, peer.Handshake, dialResult, error) {
	tc, err := connect(t, addr, timeout)
	if err != nil {
		return nil, peer.Handshake{}, dialResult{}, err
	}
	s, method, err := mse.Initiate(t, tc, infoHash, enc.methods(), peer.AppendHandshake(nil, ours), timeout)
	if err != nil {
		tc.Close()
		return nil, peer.Handshake{}, dialResult{}, fmt.Errorf("peer %s: encrypted handshake: %w", addr, err)
	}
	conn, theirs, err := peer.DialStreamSent(t, s, ours, lim, timeout)
	if err != nil {
		return nil, peer.Handshake{}, dialResult{}, err
	}
	return conn, theirs, dialResult{encrypted: method == mse.RC4, viaMSE: true}, nil
}

// hungUp reports whether err is a peer closing or resetting the
// connection during the handshake (not a refused connect or a timeout):
// what a peer does to a handshake it does not want.
func hungUp(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, utp.ErrReset) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// plainErr names encryption when a plain handshake was cut off at once.
func plainErr(err error) error {
	if err != nil && hungUp(err) {
		return fmt.Errorf("%w (--encryption disable): %w", ErrPlainRefused, err)
	}
	return err
}

// skeyLookup finds, for an incoming MSE handshake, which of our torrents
// it asks for (by HASH('req2', info-hash)).
func (c *Client) skeyLookup(req2 [20]byte) ([20]byte, bool) {
	for ih, s := range c.sessions {
		if s.req2 == req2 {
			return ih, true
		}
	}
	return [20]byte{}, false
}

// readIncoming reads the start of an incoming connection and, by its
// first bytes, takes it as plain BitTorrent or as MSE, as the policy
// allows, and returns the BitTorrent handshake's start either way.
func (c *Client) readIncoming(t *aio.Task, conn peer.Stream) (*peer.Incoming, bool, error) {
	timeout := c.cfg.HandshakeTimeout
	first := make([]byte, mse.PeekLen)
	conn.SetDeadline(t.Loop().Now().Add(timeout))
	err := readFull(t, conn, first)
	conn.SetDeadline(time.Time{})
	if err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("handshake: %w", err)
	}
	if mse.IsPlaintext(first) {
		if c.cfg.Encryption == EncryptionRequire {
			conn.Close()
			return nil, false, errors.New("a plain handshake, and we require encryption")
		}
		in, err := peer.ReadIncomingPrefix(t, conn, first, timeout)
		return in, false, err
	}
	if c.cfg.Encryption == EncryptionDisable {
		conn.Close()
		return nil, false, errors.New("an encrypted handshake (MSE), and encryption is disabled")
	}
	acc, err := mse.Accept(t, conn, first, c.skeyLookup, c.cfg.Encryption.methods(), timeout)
	if err != nil {
		return nil, false, err
	}
	in, err := peer.ReadIncomingPrefix(t, acc.Stream, acc.InitialPayload, timeout)
	return in, acc.Method == mse.RC4, err
}

// readFull reads exactly len(p) bytes from s (a TCP or a uTP connection).
func readFull(t *aio.Task, s peer.Stream, p []byte) error {
	for n := 0; n < len(p); {
		k, err := s.Read(t, p[n:])
		n += k
		if err != nil {
			if errors.Is(err, io.EOF) && n > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
