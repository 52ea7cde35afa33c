package tracker

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// The UDP tracker protocol (BEP 15). All integers are big-endian. Every
// packet starts with an action and a transaction id that the answer echoes;
// a request other than connect also carries the connection id the tracker
// handed out. No I/O here.

// BEP 15
const (
	udpProtocolID = 0x41727101980 // magic constant of a connect request

	actionConnect  uint32 = 0
	actionAnnounce uint32 = 1
	actionScrape   uint32 = 2
	actionError    uint32 = 3

	connectLen         = 16 // <protocol_id u64><action=0><transaction_id>
	connectReplyLen    = 16 // <action=0><transaction_id><connection_id u64>
	announceReqLen     = 98 // see appendAnnounceRequest
	announceReplyHdr   = 20 // <action=1><transaction_id><interval><leechers><seeders>
	scrapeReqHdr       = 16 // <connection_id u64><action=2><transaction_id>
	scrapeEntryLen     = 12 // <seeders><completed><leechers>
	udpHeaderLen       = 8  // <action><transaction_id> of every answer
	maxUDPErrorMessage = 512
)

var be = binary.BigEndian

// appendConnectRequest: <protocol_id=0x41727101980 u64><action=0 u32><transaction_id u32>.
func appendConnectRequest(dst []byte, tid uint32) []byte {
	dst = be.AppendUint64(dst, udpProtocolID)
	dst = be.AppendUint32(dst, actionConnect)
	return be.AppendUint32(dst, tid)
}

// appendAnnounceRequest writes the 98-byte announce:
//
//	<connection_id u64><action=1><transaction_id><info_hash 20><peer_id 20>
//	<downloaded u64><left u64><uploaded u64><event><ip=0><key><num_want i32><port u16>
func appendAnnounceRequest(dst []byte, connID uint64, tid uint32, req AnnounceRequest) []byte {
	dst = be.AppendUint64(dst, connID)
	dst = be.AppendUint32(dst, actionAnnounce)
	dst = be.AppendUint32(dst, tid)
	dst = append(dst, req.InfoHash[:]...)
	dst = append(dst, req.PeerID[:]...)
	dst = be.AppendUint64(dst, uint64(max(req.Downloaded, 0)))
	dst = be.AppendUint64(dst, uint64(max(req.Left, 0)))
	dst = be.AppendUint64(dst, uint64(max(req.Uploaded, 0)))
	dst = be.AppendUint32(dst, uint32(req.Event))
	dst = be.AppendUint32(dst, 0) // ip: 0 means "the sender's address"
	dst = be.AppendUint32(dst, req.Key)
	numWant := req.NumWant
	if numWant <= 0 {
		numWant = -1 // the tracker's default
	}
	dst = be.AppendUint32(dst, uint32(numWant))
	return be.AppendUint16(dst, req.Port)
}

// appendScrapeRequest: <connection_id u64><action=2><transaction_id><info_hash 20>...
func appendScrapeRequest(dst []byte, connID uint64, tid uint32, hashes [][20]byte) []byte {
	dst = be.AppendUint64(dst, connID)
	dst = be.AppendUint32(dst, actionScrape)
	dst = be.AppendUint32(dst, tid)
	for _, h := range hashes {
		dst = append(dst, h[:]...)
	}
	return dst
}

// udpReply is a decoded answer from a UDP tracker. Which fields are set
// depends on action.
type udpReply struct {
	action   uint32
	tid      uint32
	connID   uint64            // actionConnect
	announce *AnnounceResponse // actionAnnounce
	scrape   []ScrapeStats     // actionScrape, in request order
	errMsg   string            // actionError
}

// parseUDPReply decodes a tracker's answer. v6 says whether the tracker was
// reached over IPv6: BEP 15 then uses 18-byte peers instead of 6-byte ones.
func parseUDPReply(pkt []byte, v6 bool) (udpReply, error) {
	if len(pkt) < udpHeaderLen {
		return udpReply{}, fmt.Errorf("%w: UDP packet of %d bytes", ErrBadResponse, len(pkt))
	}
	r := udpReply{action: be.Uint32(pkt), tid: be.Uint32(pkt[4:])}
	body := pkt[udpHeaderLen:]
	switch r.action {
	case actionConnect:
		if len(pkt) < connectReplyLen {
			return r, fmt.Errorf("%w: connect reply of %d bytes", ErrBadResponse, len(pkt))
		}
		r.connID = be.Uint64(body)
	case actionAnnounce:
		a, err := parseUDPAnnounceReply(pkt, v6)
		if err != nil {
			return r, err
		}
		r.announce = a
	case actionScrape:
		n := min(len(body)/scrapeEntryLen, maxUDPScrapeHashes)
		for i := range n {
			e := body[i*scrapeEntryLen:]
			r.scrape = append(r.scrape, ScrapeStats{
				Complete:   clampCount(int64(be.Uint32(e))),
				Downloaded: clampCount(int64(be.Uint32(e[4:]))),
				Incomplete: clampCount(int64(be.Uint32(e[8:]))),
			})
		}
	case actionError:
		r.errMsg = string(body[:min(len(body), maxUDPErrorMessage)])
	default:
		return r, fmt.Errorf("%w: unknown UDP action %d", ErrBadResponse, r.action)
	}
	return r, nil
}

// parseUDPAnnounceReply: <action=1><transaction_id><interval><leechers><seeders><peers...>.
func parseUDPAnnounceReply(pkt []byte, v6 bool) (*AnnounceResponse, error) {
	if len(pkt) < announceReplyHdr {
		return nil, fmt.Errorf("%w: announce reply of %d bytes", ErrBadResponse, len(pkt))
	}
	a := &AnnounceResponse{
		Interval:   seconds(int64(be.Uint32(pkt[8:]))),
		Incomplete: clampCount(int64(be.Uint32(pkt[12:]))),
		Complete:   clampCount(int64(be.Uint32(pkt[16:]))),
	}
	size := compactV4Len
	if v6 {
		size = compactV6Len
	}
	var peers peerSet
	if err := peers.addCompact(pkt[announceReplyHdr:], size); err != nil {
		return nil, err
	}
	a.Peers = peers.list
	return a, nil
}

// udpRequest is a decoded packet from a client, as the server sees it.
type udpRequest struct {
	connID   uint64
	action   uint32
	tid      uint32
	announce AnnounceRequest
	hashes   [][20]byte
}

// parseUDPRequest decodes a client's packet. Anything that is not a
// well-formed connect, announce or scrape is an error; the server drops it.
func parseUDPRequest(pkt []byte) (udpRequest, error) {
	if len(pkt) < connectLen {
		return udpRequest{}, fmt.Errorf("%w: UDP request of %d bytes", ErrBadResponse, len(pkt))
	}
	r := udpRequest{connID: be.Uint64(pkt), action: be.Uint32(pkt[8:]), tid: be.Uint32(pkt[12:])}
	switch r.action {
	case actionConnect:
		if r.connID != udpProtocolID {
			return r, fmt.Errorf("%w: connect without the protocol id", ErrBadResponse)
		}
	case actionAnnounce:
		if len(pkt) < announceReqLen {
			return r, fmt.Errorf("%w: announce of %d bytes", ErrBadResponse, len(pkt))
		}
		r.announce = decodeAnnounceRequest(pkt)
	case actionScrape:
		n := (len(pkt) - scrapeReqHdr) / 20
		if n == 0 || n > maxUDPScrapeHashes {
			return r, fmt.Errorf("%w: scrape of %d info-hashes", ErrBadResponse, n)
		}
		for i := range n {
			r.hashes = append(r.hashes, [20]byte(pkt[scrapeReqHdr+20*i:]))
		}
	default:
		return r, fmt.Errorf("%w: unknown UDP action %d", ErrBadResponse, r.action)
	}
	return r, nil
}

// decodeAnnounceRequest reads the fixed 98-byte layout written by
// appendAnnounceRequest. The ip field is ignored: the server announces the
// address the packet came from, so nobody can enter someone else's.
func decodeAnnounceRequest(pkt []byte) AnnounceRequest {
	return AnnounceRequest{
		InfoHash:   [20]byte(pkt[16:36]),
		PeerID:     [20]byte(pkt[36:56]),
		Downloaded: clampInt64(be.Uint64(pkt[56:])),
		Left:       clampInt64(be.Uint64(pkt[64:])),
		Uploaded:   clampInt64(be.Uint64(pkt[72:])),
		Event:      Event(be.Uint32(pkt[80:])),
		Key:        be.Uint32(pkt[88:]),
		NumWant:    int32(be.Uint32(pkt[92:])),
		Port:       be.Uint16(pkt[96:]),
	}
}

// clampInt64 keeps a hostile 64-bit count from turning negative.
func clampInt64(v uint64) int64 {
	return int64(min(v, math.MaxInt64))
}

// appendConnectReply: <action=0><transaction_id><connection_id u64>.
func appendConnectReply(dst []byte, tid uint32, connID uint64) []byte {
	dst = be.AppendUint32(dst, actionConnect)
	dst = be.AppendUint32(dst, tid)
	return be.AppendUint64(dst, connID)
}

// appendAnnounceReply writes the answer with the peers of the requester's
// address family only: 6-byte entries for IPv4, 18-byte ones for IPv6.
func appendAnnounceReply(dst []byte, tid uint32, interval time.Duration, leechers, seeders int, peers []netip.AddrPort, v6 bool) []byte {
	dst = be.AppendUint32(dst, actionAnnounce)
	dst = be.AppendUint32(dst, tid)
	dst = be.AppendUint32(dst, uint32(interval/time.Second))
	dst = be.AppendUint32(dst, uint32(leechers))
	dst = be.AppendUint32(dst, uint32(seeders))
	for _, p := range peers {
		if p.Addr().Unmap().Is4() != v6 {
			dst = appendCompact(dst, p)
		}
	}
	return dst
}

// appendScrapeReply: <action=2><transaction_id> then <seeders><completed><leechers> per hash.
func appendScrapeReply(dst []byte, tid uint32, stats []ScrapeStats) []byte {
	dst = be.AppendUint32(dst, actionScrape)
	dst = be.AppendUint32(dst, tid)
	for _, s := range stats {
		dst = be.AppendUint32(dst, uint32(s.Complete))
		dst = be.AppendUint32(dst, uint32(s.Downloaded))
		dst = be.AppendUint32(dst, uint32(s.Incomplete))
	}
	return dst
}

// appendErrorReply: <action=3><transaction_id><message>.
func appendErrorReply(dst []byte, tid uint32, msg string) []byte {
	dst = be.AppendUint32(dst, actionError)
	dst = be.AppendUint32(dst, tid)
	return append(dst, msg...)
}
