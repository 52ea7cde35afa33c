package tracker

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/netip"
	"time"
)

// The server's UDP front end (BEP 15) as a pure function: a datagram in,
// the datagram to send back (or nil to drop) out.
//
// Connection ids carry no server state: an id is an HMAC of the client's
// IP address and the current minute, so the server checks one by
// recomputing it for this minute and the last. A spoofed source address
// never sees its id, which is BEP 15's point; a flood of connects costs no
// memory. The port is left out, as opentracker does, because clients
// often send the next announce from a new socket.

// serverState is everything the server front ends share.
type serverState struct {
	swarms *swarms
	secret [32]byte
}

func newServerState(sw *swarms) *serverState {
	st := &serverState{swarms: sw}
	rand.Read(st.secret[:])
	return st
}

// connID derives the connection id for addr's IP in the given minute.
func (st *serverState) connID(addr netip.AddrPort, minute int64) uint64 {
	m := hmac.New(sha256.New, st.secret[:])
	b, _ := addr.Addr().MarshalBinary()
	m.Write(b)
	m.Write(be.AppendUint64(nil, uint64(minute)))
	return be.Uint64(m.Sum(nil))
}

// validConnID accepts ids from this minute and the previous one, so an id
// lives between one and two minutes (BEP 15 asks for at least one).
func (st *serverState) validConnID(id uint64, addr netip.AddrPort, now time.Time) bool {
	minute := now.Unix() / 60
	return hmac.Equal(be.AppendUint64(nil, id), be.AppendUint64(nil, st.connID(addr, minute))) ||
		hmac.Equal(be.AppendUint64(nil, id), be.AppendUint64(nil, st.connID(addr, minute-1)))
}

// handleUDP answers one datagram from addr. Garbage and requests with an
// unknown connection id are dropped without an answer: answering them
// would make the server a reflector for spoofed traffic.
func (st *serverState) handleUDP(pkt []byte, from netip.AddrPort, now time.Time) []byte {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	r, err := parseUDPRequest(pkt)
	if err != nil {
		return nil
	}
	if r.action == actionConnect {
		return appendConnectReply(nil, r.tid, st.connID(from, now.Unix()/60))
	}
	if !st.validConnID(r.connID, from, now) {
		return nil
	}
	if r.action == actionScrape {
		stats := make([]ScrapeStats, len(r.hashes))
		for i, h := range r.hashes {
			stats[i] = st.swarms.scrape(h)
		}
		return appendScrapeReply(nil, r.tid, stats)
	}
	if r.announce.Port == 0 {
		return appendErrorReply(nil, r.tid, "invalid port")
	}
	res, err := st.swarms.announce(r.announce, netip.AddrPortFrom(from.Addr(), r.announce.Port), now)
	if err != nil {
		return appendErrorReply(nil, r.tid, err.Error())
	}
	peers := make([]netip.AddrPort, len(res.peers))
	for i, p := range res.peers {
		peers[i] = p.addr
	}
	return appendAnnounceReply(nil, r.tid, st.swarms.interval, res.incomplete, res.complete, peers, from.Addr().Is6())
}
