package dht

import (
	"net/netip"
	"time"
)

// The peers other nodes announced to us, per info-hash. Everything is
// bounded: the number of info-hashes, the peers per info-hash (the oldest
// announce gives way), and time (an announce expires after PeerTTL
// unless renewed). A peer's announce never makes us allocate more than
// one map entry.

// PeerTTL is how long an announce is kept.
const PeerTTL = 30 * time.Minute

type peerStore struct {
	torrents    map[ID]map[netip.AddrPort]time.Time // announce times
	peers       int
	maxTorrents int
	maxPeers    int
}

func newPeerStore(maxTorrents, maxPeers int) *peerStore {
	return &peerStore{torrents: map[ID]map[netip.AddrPort]time.Time{}, maxTorrents: maxTorrents, maxPeers: maxPeers}
}

// add records an announce and reports whether it was kept (false when
// the store already holds maxTorrents other info-hashes).
func (s *peerStore) add(ih ID, peer netip.AddrPort, now time.Time) bool {
	swarm := s.torrents[ih]
	if swarm == nil {
		if len(s.torrents) >= s.maxTorrents {
			return false
		}
		swarm = map[netip.AddrPort]time.Time{}
		s.torrents[ih] = swarm
	}
	if _, ok := swarm[peer]; !ok {
		if len(swarm) >= s.maxPeers {
			s.evictOldest(swarm)
		}
		s.peers++
	}
	swarm[peer] = now
	return true
}

func (s *peerStore) evictOldest(swarm map[netip.AddrPort]time.Time) {
	var oldest netip.AddrPort
	var at time.Time
	for p, t := range swarm {
		if at.IsZero() || t.Before(at) {
			oldest, at = p, t
		}
	}
	delete(swarm, oldest)
	s.peers--
}

// get returns up to max peers of ih that have not expired; which ones is
// left to map order, so repeated asks see different peers of a big swarm.
func (s *peerStore) get(ih ID, now time.Time, max int) []netip.AddrPort {
	var out []netip.AddrPort
	for p, t := range s.torrents[ih] {
		if len(out) == max {
			break
		}
		if now.Sub(t) < PeerTTL {
			out = append(out, p)
		}
	}
	return out
}

// expire drops announces older than PeerTTL.
func (s *peerStore) expire(now time.Time) {
	for ih, swarm := range s.torrents {
		for p, t := range swarm {
			if now.Sub(t) >= PeerTTL {
				delete(swarm, p)
				s.peers--
			}
		}
		if len(swarm) == 0 {
			delete(s.torrents, ih)
		}
	}
}
