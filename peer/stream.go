package peer

import (
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// Stream is the byte stream a Conn speaks the wire protocol over: a TCP
// socket (*aio.TCPConn), an MSE-encrypted stream (package peer/mse), or
// later a uTP connection. Its methods run on the loop thread and take the
// task that waits, as aio's sockets do.
//
// Read and Writev have aio.TCPConn's semantics: Read returns what is
// there (at least one byte, or an error; io.EOF at the end), Writev writes
// every buffer in order before it returns and may modify bufs (not the
// bytes they point to). One task may read while another writes. The
// deadlines make a parked Read or Writev fail with aio.ErrTimeout; the
// zero time removes them. Close makes a parked call fail with
// aio.ErrClosed.
type Stream interface {
	Read(t *aio.Task, p []byte) (int, error)
	Writev(t *aio.Task, bufs [][]byte) (int, error)
	SetDeadline(at time.Time)
	SetReadDeadline(at time.Time)
	Close() error
	RemoteAddr() netip.AddrPort
}

var _ Stream = (*aio.TCPConn)(nil)
