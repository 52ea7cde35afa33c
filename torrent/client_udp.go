package torrent

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/utp"
)

// The client's one UDP socket, shared by the DHT and uTP as DESIGN.md
// says: it is opened when either is on, on the TCP listener's port (a
// peer that knows our TCP port dials uTP there, as libtorrent does),
// and one task reads it and demultiplexes by the first byte: uTP packets
// (utp.IsUTP) go to the utp.Socket, KRPC dictionaries ('d') to the DHT
// node. Both write through the same socket: the uTP Socket with
// TryWriteTo (it never parks), the DHT node's sender with WriteTo.

// udpBuffer is the kernel buffer asked for each way when uTP is on:
// several connections' windows of datagrams, so bursts are not lost.
const udpBuffer = 4 << 20

// udpSlot is the buffer for one incoming datagram. KRPC and uTP packets
// are made to fit an Ethernet MTU; one that fills its slot may have been
// cut short and is dropped.
const udpSlot = 8 << 10

// clientUDP is the shared socket and the uTP side of it.
type clientUDP struct {
	conn *aio.UDPConn
	utp  *utp.Socket // nil: uTP off
}

// utpTransport sends a uTP socket's datagrams on the shared socket.
type utpTransport struct{ u *aio.UDPConn }

func (tr utpTransport) SendTo(p []byte, to netip.AddrPort) error { return tr.u.TryWriteTo(p, to) }

// SendBatch makes it a utp.BatchTransport: a window of DATA, or the acks
// of a batch of reads, is one sendmmsg.
func (tr utpTransport) SendBatch(msgs []aio.Message) (int, error) { return tr.u.TryWriteBatch(msgs) }

// openUDP opens the shared socket at addr (invalid: the TCP listener's
// address). If addr was not asked for and its port is taken, any free
// port on that IP will do: the DHT works there, and uTP does outwards. On
// failure the client goes on without the socket (and without DHT and
// uTP), as with LSD.
func (c *Client) openUDP(s aio.Spawner, addr netip.AddrPort) {
	asked := addr.IsValid()
	if !asked {
		addr = c.Addr()
	}
	conn, err := aio.ListenUDP(s, addr)
	if err != nil && !asked {
		// Our TCP port may be another program's UDP port.
		conn, err = aio.ListenUDP(s, netip.AddrPortFrom(addr.Addr(), 0))
	}
	if err != nil {
		c.cfg.Logf("udp (dht, utp) is off: %v", err)
		return
	}
	c.udp = &clientUDP{conn: conn}
	if !c.cfg.NoUTP {
		// Best effort: a smaller buffer only means more loss under bursts.
		_ = conn.SetReadBuffer(udpBuffer)
		_ = conn.SetWriteBuffer(udpBuffer)
		c.udp.utp = utp.NewSocket(aio.LoopOf(s), utpTransport{conn}, utp.Config{MaxHalfOpen: c.cfg.MaxHalfOpen})
	}
}

// close closes the uTP connections and the socket.
func (u *clientUDP) close() error {
	if u.utp != nil {
		u.utp.Close()
	}
	return u.conn.Close()
}

// readUDP reads the socket until it closes or t is cancelled, in
// batches of up to aio.MaxBatch datagrams per system call (recvmmsg on
// Linux), with one uTP Flush per batch, so a burst of uTP data gets one
// ack per connection.
func (c *Client) readUDP(t *aio.Task) error {
	u := c.udp
	msgs := make([]aio.Message, aio.MaxBatch)
	arena := make([]byte, len(msgs)*udpSlot)
	for i := range msgs {
		msgs[i].Buf = arena[i*udpSlot : (i+1)*udpSlot]
	}
	for {
		n, err := u.conn.ReadBatch(t, msgs)
		if err != nil {
			if errors.Is(err, aio.ErrClosed) || errors.Is(err, aio.ErrCanceled) {
				return nil
			}
			c.cfg.Logf("udp: read: %v", err)
			if err := aio.Sleep(t, 100*time.Millisecond); err != nil {
				return nil
			}
			continue
		}
		for _, m := range msgs[:n] {
			if m.N < len(m.Buf) {
				c.routeDatagram(m.Buf[:m.N], m.Addr)
			}
		}
		if u.utp != nil {
			u.utp.Flush()
		}
	}
}

// routeDatagram hands one datagram to uTP or the DHT by its first byte;
// anything else (or KRPC before the node exists) is dropped.
func (c *Client) routeDatagram(b []byte, from netip.AddrPort) {
	switch {
	case len(b) == 0:
	case b[0] == 'd':
		if c.dht != nil && c.dht.node != nil {
			c.dht.node.HandleDatagram(from, b)
		}
	case c.udp.utp != nil && utp.IsUTP(b):
		c.udp.utp.Receive(b, from)
	}
}

// acceptUTP takes uTP connections until t is cancelled or the socket
// closes, and starts each one's handshake in g, as accept does for TCP.
func (c *Client) acceptUTP(t *aio.Task, g *aio.Group) error {
	for {
		conn, err := c.udp.utp.Accept(t)
		if err != nil {
			return nil // cancelled or closed: nothing else ends Accept
		}
		if !c.halfOpen.TryAcquire() {
			conn.Close()
			continue
		}
		g.Go("handshake utp "+conn.RemoteAddr().String(), func(t *aio.Task) error {
			c.incoming(t, conn)
			return nil
		})
	}
}

// dialUTP connects to addr over uTP within timeout.
func (c *Client) dialUTP(t *aio.Task, addr netip.AddrPort, timeout time.Duration) (peer.Stream, error) {
	var conn *utp.Conn
	err := aio.Timeout(t, timeout, func(t *aio.Task) error {
		var err error
		conn, err = c.udp.utp.Dial(t, addr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	return conn, nil
}

// UTP reports whether the client speaks uTP (it is on and the socket
// opened).
func (c *Client) UTP() bool { return c.udp != nil && c.udp.utp != nil }
