package tracker

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"

	"github.com/aiotorrent/aiotorrent/aio"
)

// udpTracker announces to a udp:// tracker (BEP 15). The socket lives for
// one exchange; the connection id outlives it, for a minute.
type udpTracker struct {
	url      string
	hostport string
	cfg      Config
	conn     udpConnID
	lastPort uint16 // local port of the last exchange, reused if free
}

func (u *udpTracker) URL() string { return u.url }

// Announce implements Tracker.
func (u *udpTracker) Announce(t *aio.Task, req AnnounceRequest) (*AnnounceResponse, error) {
	r, err := u.exchange(t, "announce", actionAnnounce, func(dst []byte, id uint64, tid uint32) []byte {
		return appendAnnounceRequest(dst, id, tid, req)
	})
	if err != nil {
		return nil, fmt.Errorf("announce %s: %w", u.url, err)
	}
	return r.announce, nil
}

// Scrape implements Scraper. BEP 15 fits at most 74 hashes in a packet;
// more are an error rather than a silent truncation.
func (u *udpTracker) Scrape(t *aio.Task, hashes [][20]byte) (map[[20]byte]ScrapeStats, error) {
	if len(hashes) == 0 || len(hashes) > maxUDPScrapeHashes {
		return nil, fmt.Errorf("scrape %s: %d info-hashes, want 1 to %d", u.url, len(hashes), maxUDPScrapeHashes)
	}
	r, err := u.exchange(t, "scrape", actionScrape, func(dst []byte, id uint64, tid uint32) []byte {
		return appendScrapeRequest(dst, id, tid, hashes)
	})
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", u.url, err)
	}
	out := make(map[[20]byte]ScrapeStats, len(hashes))
	for i, s := range r.scrape {
		if i < len(hashes) {
			out[hashes[i]] = s
		}
	}
	return out, nil
}

// exchange resolves the tracker, opens a socket of its address family and
// drives a udpExchange to its end, all within cfg.Timeout.
func (u *udpTracker) exchange(t *aio.Task, what string, action uint32,
	request func([]byte, uint64, uint32) []byte) (*udpReply, error) {
	return withTimeout(t, u.cfg.Timeout, what, func(t *aio.Task) (*udpReply, error) {
		addrs, err := aio.Resolve(t, u.hostport)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("resolve %s: no addresses", u.hostport)
		}
		to := netip.AddrPortFrom(addrs[0].Addr().Unmap(), addrs[0].Port())
		sock, err := u.listen(t, to.Addr().Is6())
		if err != nil {
			return nil, err
		}
		defer sock.Close()
		x := &udpExchange{
			unit:    u.cfg.UDPRetryUnit,
			v6:      to.Addr().Is6(),
			conn:    &u.conn,
			action:  action,
			request: request,
			newTID:  rand.Uint32,
		}
		return runExchange(t, sock, to, x)
	})
}

// listen opens the exchange's socket, on the last exchange's port if it
// is still free: a tracker may tie the connection id to our address and
// port, and then the cached id keeps working.
func (u *udpTracker) listen(t *aio.Task, v6 bool) (*aio.UDPConn, error) {
	unspec := netip.IPv4Unspecified()
	if v6 {
		unspec = netip.IPv6Unspecified()
	}
	if u.lastPort != 0 {
		if sock, err := aio.ListenUDP(t, netip.AddrPortFrom(unspec, u.lastPort)); err == nil {
			return sock, nil
		}
	}
	sock, err := aio.ListenUDP(t, netip.AddrPortFrom(unspec, 0))
	if err != nil {
		return nil, err
	}
	u.lastPort = sock.LocalAddr().Port()
	return sock, nil
}

// udpBufs holds datagram buffers between exchanges. A local array of 64
// KiB would sit on the announcing task's stack and grow it to 128 KiB for
// every announce; the reply is decoded before the buffer goes back.
var udpBufs = sync.Pool{New: func() any { return new([64 << 10]byte) }}

// runExchange is the I/O loop around the state machine. Every pass either
// sends (at most udpMaxRetransmits+2 times), times out, or reads a packet
// (at most udpMaxReplyPackets strays), so it ends.
func runExchange(t *aio.Task, sock *aio.UDPConn, to netip.AddrPort, x *udpExchange) (*udpReply, error) {
	bp := udpBufs.Get().(*[64 << 10]byte)
	defer udpBufs.Put(bp)
	buf := bp[:] // a datagram's maximum: never truncate
	now := t.Loop().Now
	st := x.start(now())
	for st.reply == nil && st.err == nil {
		if st.send != nil {
			if _, err := sock.WriteTo(t, st.send, to); err != nil {
				return nil, err
			}
			sock.SetDeadline(now().Add(st.wait))
		}
		n, from, err := sock.ReadFrom(t, buf)
		switch {
		case errors.Is(err, aio.ErrTimeout):
			st = x.timeout(now())
		case err != nil:
			return nil, err
		case netip.AddrPortFrom(from.Addr().Unmap(), from.Port()) != to:
			st = x.stray()
		default:
			st = x.receive(buf[:n], now())
		}
	}
	return st.reply, st.err
}
