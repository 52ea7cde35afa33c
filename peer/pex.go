package peer

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/anacrolix/torrent/bencode"
)

// BEP 11: peer exchange. A peer that names ut_pex in its extension
// handshake is sent, at most once a minute, the peers we are connected to
// that it has not heard of and those we lost since the last message, as
// compact lists (4 or 16 address bytes, then a 2-byte port) with one byte
// of flags per added peer:
//
//	<len><id=20><ext=their ut_pex id>d5:added6:<ip4><port>7:added.f1:<flags>7:dropped0:e
//	<len><id=20><ext=...>d6:added618:<ip6><port>8:added6.f1:<flags>7:dropped0:8:dropped618:<ip6><port>e
const (
	// UTPex is BEP 11's extension name.
	UTPex = "ut_pex"
	// MaxPexAdded is BEP 11's bound on the added peers (IPv4 and IPv6
	// together) of every message but the first; the same holds for dropped.
	MaxPexAdded = 50
	// MaxPexPeers caps each address family of each list that ParsePexMsg
	// returns (added IPv4, added IPv6, dropped IPv4, dropped IPv6); the rest
	// is ignored. BEP 11 sets no bound on a first message; libtorrent sends
	// at most 100 added peers and keeps at most 200 (max_pex_peers) from one
	// source, so 200 loses nothing a real client sends.
	MaxPexPeers = 200
	// MaxPexMessage is the largest ut_pex payload ParsePexMsg accepts:
	// libtorrent drops a peer whose PEX message is over 500 KiB. Frames
	// that large only arrive if Limits.MaxExtended lets them (its default,
	// DefaultMaxExtended, already holds a message with MaxPexPeers in every
	// list).
	MaxPexMessage = 500 << 10
)

// PexFlags describes one added peer (BEP 11). Other bits are reserved;
// ParsePexMsg keeps them as sent.
type PexFlags byte

// BEP 11 flags.
const (
	PexEncryption PexFlags = 0x01 // prefers encryption (its handshake's "e")
	PexSeed       PexFlags = 0x02 // seed or upload only
	PexUTP        PexFlags = 0x04 // supports uTP
	PexHolepunch  PexFlags = 0x08 // named ut_holepunch in its handshake
	PexReachable  PexFlags = 0x10 // we connected out to it: it accepts connections
)

// PexMsg is one ut_pex message. IPv4 and IPv6 peers are mixed in each
// list; an IPv4-mapped IPv6 address is an IPv4 peer.
type PexMsg struct {
	Added []netip.AddrPort
	// Flags[i] describes Added[i]; a missing entry means no flags.
	Flags   []PexFlags
	Dropped []netip.AddrPort
}

// pexDict is the bencoded ut_pex dictionary. BEP 11 calls every key
// optional, so an absent one is an empty list.
type pexDict struct {
	Added    []byte `bencode:"added"`
	AddedF   []byte `bencode:"added.f"`
	Added6   []byte `bencode:"added6"`
	Added6F  []byte `bencode:"added6.f"`
	Dropped  []byte `bencode:"dropped"`
	Dropped6 []byte `bencode:"dropped6"`
}

// AppendPexMsg appends a whole ut_pex frame, sent under extID (the id the
// receiver asked for in its handshake). Keeping to BEP 11's bounds is the
// caller's (PexState does). The IPv4 keys are always written, so even an
// empty message has one of the keys BEP 11 requires; the IPv6 keys only
// when they have peers. An address that is not valid is skipped.
func AppendPexMsg(dst []byte, extID uint8, m PexMsg) []byte {
	start := len(dst)
	dst = appendHeader(dst, Extended, 0) // the length is patched in below
	dst = append(dst, extID, 'd')
	var added4, added6, dropped4, dropped6 int
	for _, ap := range m.Added {
		added4, added6 = countFamily(ap, added4, added6)
	}
	for _, ap := range m.Dropped {
		dropped4, dropped6 = countFamily(ap, dropped4, dropped6)
	}
	dst = appendCompactKey(dst, "added", m.Added, true, added4)
	dst = appendFlagsKey(dst, "added.f", m, true, added4)
	if added6 > 0 {
		dst = appendCompactKey(dst, "added6", m.Added, false, added6)
		dst = appendFlagsKey(dst, "added6.f", m, false, added6)
	}
	dst = appendCompactKey(dst, "dropped", m.Dropped, true, dropped4)
	if dropped6 > 0 {
		dst = appendCompactKey(dst, "dropped6", m.Dropped, false, dropped6)
	}
	dst = append(dst, 'e')
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

func countFamily(ap netip.AddrPort, n4, n6 int) (int, int) {
	switch a := ap.Addr().Unmap(); {
	case a.Is4():
		n4++
	case a.Is6():
		n6++
	}
	return n4, n6
}

// appendBencodeKey appends a key and the length prefix of its string value.
func appendBencodeKey(dst []byte, key string, valueLen int) []byte {
	dst = appendBencodeString(dst, key)
	dst = strconv.AppendInt(dst, int64(valueLen), 10)
	return append(dst, ':')
}

func appendBencodeString(dst []byte, s string) []byte {
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, ':')
	return append(dst, s...)
}

// appendCompactKey appends key and the compact form of the n peers of
// peers in the family v4 selects: 4 address bytes and the port for IPv4,
// 16 and the port for IPv6.
func appendCompactKey(dst []byte, key string, peers []netip.AddrPort, v4 bool, n int) []byte {
	size := 18
	if v4 {
		size = 6
	}
	dst = appendBencodeKey(dst, key, n*size)
	for _, ap := range peers {
		a := ap.Addr().Unmap()
		switch {
		case v4 && a.Is4():
			b := a.As4()
			dst = append(dst, b[:]...)
		case !v4 && a.Is6():
			b := a.As16()
			dst = append(dst, b[:]...)
		default:
			continue
		}
		dst = binary.BigEndian.AppendUint16(dst, ap.Port())
	}
	return dst
}

// appendFlagsKey appends key and the flags of the n added peers of m in
// the family v4 selects, in the order appendCompactKey wrote them.
func appendFlagsKey(dst []byte, key string, m PexMsg, v4 bool, n int) []byte {
	dst = appendBencodeKey(dst, key, n)
	for i, ap := range m.Added {
		a := ap.Addr().Unmap()
		if (v4 && a.Is4()) || (!v4 && a.Is6()) {
			var f PexFlags
			if i < len(m.Flags) {
				f = m.Flags[i]
			}
			dst = append(dst, byte(f))
		}
	}
	return dst
}

// ParsePexMsg decodes a ut_pex payload, which must be one bencoded
// dictionary and at most MaxPexMessage bytes; unknown keys are ignored.
// A known key whose value is not a string, or a compact list whose length
// is not a whole number of peers, is an error.
//
// The rest is lenient, because PEX only suggests addresses to dial. Flags
// are advisory too, so an added.f shorter than its list leaves the peers
// past its end with no flags and a longer one has its excess ignored
// (libtorrent instead drops the whole list when the lengths differ, losing
// the peers over a byte that does not matter). Entries with port 0 or an
// unspecified address (0.0.0.0, ::) cannot be dialled and are left out,
// with their flags. An IPv4-mapped address in added6 or dropped6 is the
// IPv4 peer it maps. Each family of each list keeps its first
// MaxPexPeers. IPv4 peers come first in each list, in the order sent,
// then IPv6 ones. Duplicates, and a peer both added and dropped, are
// passed on: the session's peer list is where addresses are merged.
func ParsePexMsg(payload []byte) (PexMsg, error) {
	if len(payload) > MaxPexMessage {
		return PexMsg{}, fmt.Errorf("ut_pex: %d bytes, limit %d: %w", len(payload), MaxPexMessage, ErrBadExtension)
	}
	var d pexDict
	if err := bencode.Unmarshal(payload, &d); err != nil {
		return PexMsg{}, fmt.Errorf("ut_pex: %v: %w", err, ErrBadExtension)
	}
	for _, l := range []struct {
		key  string
		list []byte
		size int
	}{{"added", d.Added, 6}, {"added6", d.Added6, 18}, {"dropped", d.Dropped, 6}, {"dropped6", d.Dropped6, 18}} {
		if len(l.list)%l.size != 0 {
			return PexMsg{}, fmt.Errorf("ut_pex: %s of %d bytes, not a multiple of %d: %w",
				l.key, len(l.list), l.size, ErrBadExtension)
		}
	}
	var m PexMsg
	if n := min(len(d.Added)/6+len(d.Added6)/18, 2*MaxPexPeers); n > 0 {
		m.Added = make([]netip.AddrPort, 0, n)
		m.Flags = make([]PexFlags, 0, n)
		added := pexList{peers: m.Added, flags: m.Flags, withFlags: true}
		added.appendPeers(d.Added, d.AddedF, 6, true)
		added.appendPeers(d.Added6, d.Added6F, 18, true) // IPv4-mapped
		added.appendPeers(d.Added6, d.Added6F, 18, false)
		m.Added, m.Flags = added.peers, added.flags
	}
	if n := min(len(d.Dropped)/6+len(d.Dropped6)/18, 2*MaxPexPeers); n > 0 {
		dropped := pexList{peers: make([]netip.AddrPort, 0, n)}
		dropped.appendPeers(d.Dropped, nil, 6, true)
		dropped.appendPeers(d.Dropped6, nil, 18, true)
		dropped.appendPeers(d.Dropped6, nil, 18, false)
		m.Dropped = dropped.peers
	}
	return m, nil
}

// pexList collects one list of a PexMsg as its compact lists are read.
type pexList struct {
	peers     []netip.AddrPort
	flags     []PexFlags
	withFlags bool
	n4, n6    int // peers kept of each family, up to MaxPexPeers
}

// appendPeers appends the dialable entries of the compact list (size bytes
// each) that are IPv4 if v4 is set, IPv6 otherwise, with their flags from
// fl if l.withFlags, while l has fewer than MaxPexPeers of that family.
func (l *pexList) appendPeers(list, fl []byte, size int, v4 bool) {
	n := &l.n6
	if v4 {
		n = &l.n4
	}
	for i := 0; i*size < len(list) && *n < MaxPexPeers; i++ {
		e := list[i*size : (i+1)*size]
		var a netip.Addr
		if size == 6 {
			a = netip.AddrFrom4([4]byte(e[:4]))
		} else {
			a = netip.AddrFrom16([16]byte(e[:16])).Unmap()
		}
		port := binary.BigEndian.Uint16(e[size-2:])
		if a.Is4() != v4 || port == 0 || a.IsUnspecified() {
			continue
		}
		l.peers = append(l.peers, netip.AddrPortFrom(a, port))
		if l.withFlags {
			var f PexFlags
			if i < len(fl) {
				f = PexFlags(fl[i])
			}
			l.flags = append(l.flags, f)
		}
		*n++
	}
}
