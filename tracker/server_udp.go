package tracker

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"net/netip"
	"time"
)

// The server's UDP front end (BEP 15) as a pure function: a datagram in,
// the datagram to send back (or nil to drop) out.
//
// Connection ids carry no server state: an id is a MAC of the client's IP
// address and the current minute under a secret key, so the server checks
// one by recomputing it for this minute and the last. A spoofed source
// address never sees its id, which is BEP 15's point; a flood of connects
// costs no memory. The port is left out, as opentracker does, because
// clients often send the next announce from a new socket. The MAC is
// AES-CBC-MAC over two fixed-length blocks (the 16-byte address, then the
// minute), a PRF for fixed-length input: two block encryptions and no
// allocation, where HMAC-SHA256 cost about a microsecond per announce.

// serverState is everything the server front ends share.
type serverState struct {
	swarms *swarms
	mac    cipher.Block
	body   []byte   // an HTTP answer's body, reused: answers are built whole, one at a time
	blk    [16]byte // connID's scratch block
}

func newServerState(sw *swarms) *serverState {
	var key [16]byte
	rand.Read(key[:])
	b, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // 16 bytes is a valid AES key size
	}
	return &serverState{swarms: sw, mac: b}
}

// connID derives the connection id for addr's IP in the given minute.
func (st *serverState) connID(addr netip.AddrPort, minute int64) uint64 {
	// The block lives in st: a stack array passed to an interface method
	// would escape to the heap on every call.
	blk := st.blk[:]
	st.blk = addr.Addr().Unmap().As16()
	st.mac.Encrypt(blk, blk)
	binary.BigEndian.PutUint64(blk[8:], binary.BigEndian.Uint64(blk[8:])^uint64(minute))
	st.mac.Encrypt(blk, blk)
	return binary.BigEndian.Uint64(blk[:8])
}

// validConnID accepts ids from this minute and the previous one, so an id
// lives between one and two minutes (BEP 15 asks for at least one).
func (st *serverState) validConnID(id uint64, addr netip.AddrPort, now time.Time) bool {
	minute := now.Unix() / 60
	a, b := st.connID(addr, minute), st.connID(addr, minute-1)
	return subtle.ConstantTimeEq(int32(id>>32^a>>32)|int32(id^a), 0) == 1 ||
		subtle.ConstantTimeEq(int32(id>>32^b>>32)|int32(id^b), 0) == 1
}

// handleUDP answers one datagram from addr (nil to drop it).
func (st *serverState) handleUDP(pkt []byte, from netip.AddrPort, now time.Time) []byte {
	return st.appendUDP(nil, pkt, from, now)
}

// appendUDP appends the answer to one datagram from addr to dst and
// returns it, or returns nil to drop the datagram. Garbage and requests
// with an unknown connection id are dropped without an answer: answering
// them would make the server a reflector for spoofed traffic.
func (st *serverState) appendUDP(dst, pkt []byte, from netip.AddrPort, now time.Time) []byte {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	r, err := parseUDPRequest(pkt)
	if err != nil {
		return nil
	}
	if r.action == actionConnect {
		return appendConnectReply(dst, r.tid, st.connID(from, now.Unix()/60))
	}
	if !st.validConnID(r.connID, from, now) {
		return nil
	}
	if r.action == actionScrape {
		stats := make([]ScrapeStats, len(r.hashes))
		for i, h := range r.hashes {
			stats[i] = st.swarms.scrape(h)
		}
		return appendScrapeReply(dst, r.tid, stats)
	}
	if r.announce.Port == 0 {
		return appendErrorReply(dst, r.tid, "invalid port")
	}
	family := 4
	if from.Addr().Is6() {
		family = 6
	}
	res := st.swarms.announceFamily(r.announce, netip.AddrPortFrom(from.Addr(), r.announce.Port), now, family)
	dst = be.AppendUint32(dst, actionAnnounce)
	dst = be.AppendUint32(dst, r.tid)
	dst = be.AppendUint32(dst, uint32(st.swarms.interval/time.Second))
	dst = be.AppendUint32(dst, uint32(res.incomplete))
	dst = be.AppendUint32(dst, uint32(res.complete))
	for i := range res.peers {
		dst = appendCompactRec(dst, &res.peers[i])
	}
	return dst
}
