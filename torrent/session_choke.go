package torrent

import (
	"time"

	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
)

// chokeRound is the session's side of choking: it measures each peer over
// the round that ends, asks the choker (choke.go) whom to unchoke, and
// sends the CHOKE and UNCHOKE messages that change.
type chokeRound struct {
	last       time.Time // when the last round ran
	candidates []chokeCandidate
	unchoke    []piece.PeerID
	set        map[piece.PeerID]bool

	// For tests and progress: the peer ids we ever unchoked, and the most
	// peers unchoked at once.
	everUnchoked map[[20]byte]bool
	maxUnchoked  int
}

// roundStats is a peer's transfer counters at the start of a round.
type roundStats struct{ down, up uint64 }

// rechoke runs a choking round if one is due.
func (s *Session) rechoke(now time.Time) {
	if !s.choker.due(now) {
		return
	}
	r := &s.chokes
	secs := now.Sub(r.last).Seconds()
	r.last = now
	r.candidates = r.candidates[:0]
	for _, p := range s.peers {
		st := p.conn.Stats()
		c := chokeCandidate{
			id: p.id, interested: p.peerInterested, amInterested: p.amInterested,
			lastBlock: p.lastBlock, connected: p.connected,
		}
		// The rate over the round that ends (or since the peer came, if
		// later): a whole round's bytes, not the last second's.
		if d := min(secs, now.Sub(p.connected).Seconds()); d > 0 {
			c.downRate = float64(st.Downloaded-p.round.down) / d
			c.upRate = float64(st.Uploaded-p.round.up) / d
		}
		p.round = roundStats{down: st.Downloaded, up: st.Uploaded}
		r.candidates = append(r.candidates, c)
	}
	r.unchoke = s.choker.rechoke(now, s.picker.Complete(), r.candidates, r.unchoke[:0])
	clear(r.set)
	for _, id := range r.unchoke {
		r.set[id] = true
	}
	// Chokes first, so that no more than the slots are ever unchoked.
	for _, p := range s.peers {
		if !r.set[p.id] {
			p.setChoking(true)
		}
	}
	for _, id := range r.unchoke {
		s.peers[id].setChoking(false)
	}
}

// onInterested unchokes a newly interested peer at once when there is a
// free slot, rather than making it wait for the next round (up to 10 s).
func (s *Session) onInterested(p *peerConn) {
	if p.amChoking && s.unchoked() < s.choker.cfg.Slots+1 {
		p.setChoking(false)
	}
}

// onNotInterested chokes a peer that wants nothing more from us and gives
// its slot to a peer that is waiting, so that a leecher finishing does
// not leave its slot idle until the next round.
func (s *Session) onNotInterested(p *peerConn) {
	if !p.amChoking {
		p.setChoking(true)
		s.fillSlots()
	}
}

// fillSlots unchokes waiting interested peers while there are free slots
// (a peer left or lost interest). The next round ranks them properly.
func (s *Session) fillSlots() {
	n := s.unchoked()
	for _, q := range s.peers {
		if n >= s.choker.cfg.Slots+1 {
			return
		}
		if q.amChoking && q.peerInterested {
			q.setChoking(false)
			n++
		}
	}
}

// setChoking chokes or unchokes p. Choking discards the requests it has
// queued with us (BEP 3: a choke drops them; the peer asks again after
// the next unchoke).
func (p *peerConn) setChoking(on bool) {
	if p.amChoking == on {
		return
	}
	p.amChoking = on
	if on {
		// Queued requests are void (BEP 3); a fast peer is told so after
		// the CHOKE, one REJECT each, except for its allowed fast
		// pieces, which we still serve (BEP 6).
		p.conn.Queue(peer.AppendChoke(nil))
		kept := p.uploads[:0]
		for _, u := range p.uploads {
			if p.allowedWhileChoked(u.Index) {
				kept = append(kept, u)
			} else {
				p.reject(u)
			}
		}
		clear(p.uploads[len(kept):])
		p.uploads = kept
	} else {
		p.conn.Queue(peer.AppendUnchoke(nil))
		r := &p.s.chokes
		r.everUnchoked[p.peerID] = true
		r.maxUnchoked = max(r.maxUnchoked, p.s.unchoked())
	}
	p.wake.Set()
}

// unchoked is the number of peers we let download from us.
func (s *Session) unchoked() int {
	n := 0
	for _, p := range s.peers {
		if !p.amChoking {
			n++
		}
	}
	return n
}
