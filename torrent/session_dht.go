package torrent

import (
	"errors"
	"net/netip"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/dht"
	"github.com/aiotorrent/aiotorrent/peer"
)

// A session on a client with a DHT looks its info-hash up and announces
// itself (BEP 5) at the start and every DHTConfig.AnnounceInterval; each
// peer a lookup names goes to the peer list as fromDHT while the lookup
// is still running. Announcing is right for a leecher too: it listens,
// so other peers may as well find it. Private torrents (BEP 27) never
// touch the DHT.
//
// The handshake's DHT bit and the PORT message tell peers where our node
// is; a peer's PORT names its node, which we ping once per connection so
// that it joins our table (the way into the DHT for a client that knows
// no router).

// dhtEnabled reports whether this torrent uses the client's DHT.
func (s *Session) dhtEnabled() bool { return s.client.dht != nil && !s.meta.Private }

// startDHT starts the announce task, if the torrent uses the DHT.
func (s *Session) startDHT() {
	if s.dhtEnabled() {
		s.group.Go("dht announce", s.dhtAnnounceLoop)
	}
}

// dhtAnnounceLoop announces until the session ends. An announce that
// reached no node (the table is still filling, or the network is down)
// is tried again soon, after a pause that doubles up to the interval.
func (s *Session) dhtAnnounceLoop(t *aio.Task) error {
	d := s.client.dht
	node, err := d.wait(t)
	if err != nil {
		return err
	}
	// Every torrent waits for the node: spread their first announces
	// (client_tick.go), so that the table's nodes are not all asked at once.
	if err := aio.Sleep(t, s.client.announceDelay()); err != nil {
		return err
	}
	found := func(a netip.AddrPort) { s.learn(netip.AddrPortFrom(a.Addr().Unmap(), a.Port()), fromDHT) }
	retry := d.cfg.RetryInterval
	for {
		accepted, err := node.Announce(t, dht.ID(s.meta.InfoHash), s.client.Addr().Port(), found)
		if errors.Is(err, aio.ErrCanceled) {
			return err
		}
		pause := d.cfg.AnnounceInterval
		if err != nil || accepted == 0 {
			if err != nil {
				s.client.cfg.Logf("%s: dht announce: %v", s.meta.Name, err)
			}
			pause = min(retry, d.cfg.AnnounceInterval)
			retry *= 2
		} else {
			retry = d.cfg.RetryInterval
		}
		if err := aio.Sleep(t, pause); err != nil {
			return err
		}
	}
}

// sendDHTPort queues a PORT message naming our node, to a peer whose
// handshake has the DHT bit.
func (s *Session) sendDHTPort(p *peerConn, hs peer.Handshake) {
	if !s.dhtEnabled() || !hs.Reserved.Has(peer.DHTBit) {
		return
	}
	p.conn.Queue(peer.AppendPort(nil, s.client.DHTAddr().Port()))
	p.wake.Set()
}

// onDHTPort pings the node a peer's PORT message names, once per
// connection: one ping, bounded by the node's query timeout, whatever
// the peer sends.
func (s *Session) onDHTPort(p *peerConn, port uint16) {
	node := s.client.DHT()
	if !s.dhtEnabled() || node == nil || p.dhtPinged || port == 0 {
		return
	}
	p.dhtPinged = true
	addr := netip.AddrPortFrom(p.conn.RemoteAddr().Addr().Unmap(), port)
	s.group.Go("dht ping "+addr.String(), func(t *aio.Task) error {
		if _, err := node.Ping(t, addr); err != nil && !errors.Is(err, aio.ErrCanceled) {
			s.client.cfg.Logf("dht ping %s (PORT from a peer): %v", addr, err)
		}
		return nil
	})
}
