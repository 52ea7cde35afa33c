package aio

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Batched datagram I/O. A transport that handles datagrams in batches
// (uTP acks once per batch) reads and writes them many per call: on Linux
// one recvmmsg or sendmmsg system call per batch (udp_mmsg_linux.go),
// elsewhere one recvfrom or sendto per datagram behind the same calls
// (udp_mmsg_other.go). quic-go and tokio do the same; one syscall per
// datagram is what holds libutp's uTP well below TCP.

// Message is one datagram of a batch.
type Message struct {
	// Buf is, for a read, where the datagram is put (a longer one is cut
	// to len(Buf)); for a write, the whole datagram.
	Buf []byte
	// N is, after a read, the datagram's length.
	N int
	// Addr is, after a read, the sender; for a write, the destination.
	Addr netip.AddrPort
}

// MaxBatch is the most datagrams one batch call moves: longer slices are
// served in part, as a short read or write.
const MaxBatch = 64

// ReadBatch waits for at least one datagram, then fills msgs with as many
// as are queued (at most MaxBatch) and returns how many.
func (u *UDPConn) ReadBatch(t *Task, msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	return u.pd.retry(t, reading, "recvmmsg", func() (int, error) { return u.readBatch(msgs) })
}

// TryReadBatch is ReadBatch that never parks: 0 when nothing is queued.
// As with TryReadFrom, the EAGAIN that ends a drain re-arms the edge a
// later ReadBatch parks on.
func (u *UDPConn) TryReadBatch(msgs []Message) (int, error) {
	for {
		if u.pd.closed {
			return 0, ErrClosed
		}
		n, err := u.readBatch(msgs)
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
		case unix.EAGAIN:
			return 0, nil
		default:
			return 0, fmt.Errorf("recvmmsg: %w", err)
		}
	}
}

// TryWriteBatch sends msgs in order without parking and returns how many
// went out. When that is fewer than len(msgs), err says why msgs[n] did
// not: ErrWouldBlock for a full send buffer (the rest would fail too),
// anything else for that datagram alone (a bad address), so a caller can
// skip it and send the rest.
func (u *UDPConn) TryWriteBatch(msgs []Message) (int, error) {
	sent := 0
	for sent < len(msgs) {
		if u.pd.closed {
			return sent, ErrClosed
		}
		n, err := u.writeBatch(msgs[sent:min(len(msgs), sent+MaxBatch)])
		switch err {
		case nil:
			sent += n
		case unix.EINTR:
		case unix.EAGAIN:
			return sent, ErrWouldBlock
		default:
			return sent, fmt.Errorf("sendmmsg: %w", err)
		}
	}
	return sent, nil
}

// sixSocket says whether u is an AF_INET6 socket, which reaches IPv4
// peers through mapped addresses.
func (u *UDPConn) sixSocket() bool {
	return u.local.Addr().Is6() && !u.local.Addr().Is4In6()
}
