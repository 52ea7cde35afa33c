package netpoll

import (
	"errors"
	"time"
)

// Interest says which directions of an fd are watched.
type Interest uint8

const (
	// Read asks for readability: data, a pending connection, or end of stream.
	Read Interest = 1 << iota
	// Write asks for writability: room in the send buffer, or a finished connect.
	Write
)

// Ready says what happened to an fd.
type Ready uint8

const (
	// Readable means a read will not block (it may return data, EOF or an error).
	Readable Ready = 1 << iota
	// Writable means a write will not block.
	Writable
	// HangUp means the peer closed its side (EPOLLRDHUP/EPOLLHUP, EV_EOF).
	HangUp
	// Error means the fd has a pending error (EPOLLERR, EV_ERROR); a read or
	// write will report it.
	Error
)

// Event is one fd's readiness, as reported by Wait.
type Event struct {
	Fd    int
	Ready Ready
}

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("netpoll: poller closed")

// ErrUnsupported is returned by New on systems with no backend.
var ErrUnsupported = errors.New("netpoll: no poller for this operating system")

// timeoutMillis converts a Wait timeout for pollers that count in
// milliseconds. A negative timeout means forever. It rounds up: truncating
// 0.5 ms to 0 would turn a short sleep into a busy loop (mio learned this).
func timeoutMillis(d time.Duration) int {
	if d < 0 {
		return -1
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > 1<<30 {
		ms = 1 << 30
	}
	return int(ms)
}
