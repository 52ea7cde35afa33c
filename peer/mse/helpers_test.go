package mse

import (
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

// The streams this package returns go straight to package peer.
var (
	_ peer.Stream = Stream(nil)
	_ Stream      = (*aio.TCPConn)(nil)
)

var loopback = netip.MustParseAddrPort("127.0.0.1:0")

// runLoop runs fn as the main task of a fresh loop and fails t with its
// error, or if the loop is still running after 20 s.
func runLoop(t testing.TB, fn func(t *aio.Task) error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := aio.Run(func(t *aio.Task) (struct{}, error) { return struct{}{}, fn(t) })
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("loop still running after 20s")
	}
}

// tcpPair is a connected loopback pair.
func tcpPair(t *aio.Task) (dialled, accepted *aio.TCPConn, err error) {
	ln, err := aio.ListenTCP(t, loopback)
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	acc := aio.Spawn(t, "accept", func(t *aio.Task) (*aio.TCPConn, error) { return ln.Accept(t) })
	d, err := aio.DialTCP(t, ln.Addr(), 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	a, err := aio.Await(t, acc)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, a, nil
}

// memStream is a Stream whose other end is a script run synchronously:
// Read serves what the script has sent so far (at most chunk bytes at a
// time, when chunk > 0) and reports io.EOF when it has sent nothing more;
// Writev hands what we write to the script, which may answer by appending
// to in. It needs no socket, so the fuzz tests drive the parsers with it.
type memStream struct {
	in      []byte
	chunk   int
	onWrite func(m *memStream, p []byte)
	written []byte
	closed  bool
}

func (m *memStream) Read(t *aio.Task, p []byte) (int, error) {
	if m.closed {
		return 0, aio.ErrClosed
	}
	if len(m.in) == 0 {
		return 0, io.EOF
	}
	if m.chunk > 0 && len(p) > m.chunk {
		p = p[:m.chunk]
	}
	n := copy(p, m.in)
	m.in = m.in[n:]
	return n, nil
}

func (m *memStream) Writev(t *aio.Task, bufs [][]byte) (int, error) {
	if m.closed {
		return 0, aio.ErrClosed
	}
	n := 0
	start := len(m.written)
	for _, b := range bufs {
		m.written = append(m.written, b...)
		n += len(b)
	}
	if m.onWrite != nil {
		m.onWrite(m, m.written[start:])
	}
	return n, nil
}

func (m *memStream) SetDeadline(time.Time)      {}
func (m *memStream) SetReadDeadline(time.Time)  {}
func (m *memStream) Close() error               { m.closed = true; return nil }
func (m *memStream) RemoteAddr() netip.AddrPort { return netip.MustParseAddrPort("192.0.2.1:6881") }

// testHash is info hash number i.
func testHash(i byte) [20]byte {
	var h [20]byte
	for j := range h {
		h[j] = i*20 + byte(j)
	}
	return h
}
