package tracker

import (
	"encoding/binary"
	"net/netip"
)

// One swarm's peers, stored flat: a slice of fixed-size records and, once
// the swarm is larger than a linear scan should cover, a small
// open-addressing table from address to slot. No peer is a heap object of
// its own: 100,000 peers are 2.4 MB of records plus 4–8 bytes of table
// each, where a map of structs per swarm cost about 600 bytes a peer.

// peerRec is one peer: 24 bytes, no pointers (the garbage collector never
// scans a swarm). It is identified by its address: the address is what
// other peers dial, and a client cannot choose it. The peer id is not
// kept; dictionary-form answers leave it out, as BEP 23 trackers do.
type peerRec struct {
	ip      [16]byte // IPv6, or IPv4 in the first four bytes
	expires uint32   // seconds since swarms.epoch; expired once now ≥ expires
	port    uint16
	flags   uint8 // recV6, recSeeder
}

const (
	recV6 uint8 = 1 << iota
	recSeeder
)

func makeRec(a netip.AddrPort) peerRec {
	r := peerRec{port: a.Port()}
	if ip := a.Addr().Unmap(); ip.Is4() {
		b := ip.As4()
		copy(r.ip[:], b[:])
	} else {
		r.ip = ip.As16()
		r.flags = recV6
	}
	return r
}

func (r *peerRec) addrPort() netip.AddrPort {
	if r.flags&recV6 != 0 {
		return netip.AddrPortFrom(netip.AddrFrom16(r.ip), r.port)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(r.ip[:4])), r.port)
}

func (r *peerRec) is6() bool    { return r.flags&recV6 != 0 }
func (r *peerRec) seeder() bool { return r.flags&recSeeder != 0 }
func (r *peerRec) sameAddr(o *peerRec) bool {
	return r.ip == o.ip && r.port == o.port && r.flags&recV6 == o.flags&recV6
}

// appendCompactRec writes r as BEP 23 / BEP 7 compact bytes.
func appendCompactRec(dst []byte, r *peerRec) []byte {
	n := 4
	if r.is6() {
		n = 16
	}
	dst = append(dst, r.ip[:n]...)
	return binary.BigEndian.AppendUint16(dst, r.port)
}

// A swarm scans its records linearly up to tableMin peers (a few hundred
// bytes, cheaper than hashing), and keeps a table above that; it drops the
// table again below tableMin/2 so that a swarm hovering at the threshold
// does not rebuild it on every announce.
const tableMin = 16

// swarm is the peers of one torrent.
type swarm struct {
	// Invariant: peers is dense (swap-remove), so that a sample is a walk
	// over indexes; seeders counts the records with recSeeder. When table
	// is not nil, it holds slot+1 for every slot of peers (0 is empty),
	// its length is a power of two at least twice len(peers), and entries
	// sit in linear-probing order from their hash.
	peers      []peerRec
	table      []uint32
	seeders    int
	downloaded int    // "completed" events seen, for scrape
	lastSeen   uint32 // the last announce, in swarms clock seconds
	pos        int    // index in swarms.list
	hand       int    // the next slot purgeSome looks at
	ih         [20]byte
}

// hashRec mixes a record's address with a per-process seed, so that
// addresses chosen to collide (an IPv6 /64 is a lot of addresses) cannot
// be precomputed.
func hashRec(r *peerRec, seed uint64) uint64 {
	a := binary.LittleEndian.Uint64(r.ip[:8])
	b := binary.LittleEndian.Uint64(r.ip[8:])
	x := (a^seed)*0x9e3779b97f4a7c15 ^ (b+uint64(r.port)<<1|uint64(r.flags&recV6))*0xc2b2ae3d27d4eb4f
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	return x ^ x>>29
}

// find returns r's slot, or -1.
func (sw *swarm) find(r *peerRec, seed uint64) int {
	if sw.table == nil {
		for i := range sw.peers {
			if sw.peers[i].sameAddr(r) {
				return i
			}
		}
		return -1
	}
	mask := uint64(len(sw.table) - 1)
	for i := hashRec(r, seed) & mask; ; i = (i + 1) & mask {
		v := sw.table[i]
		if v == 0 {
			return -1
		}
		if sw.peers[v-1].sameAddr(r) {
			return int(v - 1)
		}
	}
}

// tableIndex is where slot sits in the table (it must be there).
func (sw *swarm) tableIndex(slot int, seed uint64) uint64 {
	mask := uint64(len(sw.table) - 1)
	i := hashRec(&sw.peers[slot], seed) & mask
	for sw.table[i] != uint32(slot+1) {
		i = (i + 1) & mask
	}
	return i
}

func (sw *swarm) tablePut(slot int, seed uint64) {
	mask := uint64(len(sw.table) - 1)
	i := hashRec(&sw.peers[slot], seed) & mask
	for sw.table[i] != 0 {
		i = (i + 1) & mask
	}
	sw.table[i] = uint32(slot + 1)
}

// rebuild sizes the table for n peers (nil below tableMin/2 … tableMin).
func (sw *swarm) rebuild(n int, seed uint64) {
	if n <= tableMin/2 || (sw.table == nil && n <= tableMin) {
		sw.table = nil
		return
	}
	size := 2 * tableMin
	for size < 2*n {
		size *= 2
	}
	sw.table = make([]uint32, size)
	for i := range sw.peers {
		sw.tablePut(i, seed)
	}
}

// insert appends r (not already present) and returns its slot.
func (sw *swarm) insert(r peerRec, seed uint64) int {
	if len(sw.peers) == cap(sw.peers) {
		// Grow by a quarter, not append's doubling: most swarms are
		// small and stay at their size, so slack is most of their memory.
		sw.peers = append(make([]peerRec, 0, len(sw.peers)+len(sw.peers)/4+2), sw.peers...)
	}
	sw.peers = append(sw.peers, r)
	slot := len(sw.peers) - 1
	switch {
	case sw.table == nil && len(sw.peers) > tableMin, sw.table != nil && 2*len(sw.peers) > len(sw.table):
		sw.rebuild(len(sw.peers), seed)
	case sw.table != nil:
		sw.tablePut(slot, seed)
	}
	if r.seeder() {
		sw.seeders++
	}
	return slot
}

// removeAt drops slot i by moving the last record into it.
func (sw *swarm) removeAt(i int, seed uint64) {
	if sw.peers[i].seeder() {
		sw.seeders--
	}
	last := len(sw.peers) - 1
	if sw.table != nil {
		sw.tableDelete(sw.tableIndex(i, seed), seed)
		if i != last {
			sw.table[sw.tableIndex(last, seed)] = uint32(i + 1)
		}
	}
	sw.peers[i] = sw.peers[last]
	sw.peers = sw.peers[:last]
	if sw.table != nil && (last <= tableMin/2 || 8*last < len(sw.table)) {
		sw.rebuild(last, seed)
	}
	if cap(sw.peers) > 64 && 4*len(sw.peers) < cap(sw.peers) {
		// Give a swarm that shrank its memory back.
		sw.peers = append(make([]peerRec, 0, 2*len(sw.peers)), sw.peers...)
	}
}

// tableDelete empties table index i with backward-shift deletion, which
// keeps linear probing correct without tombstones: each later entry of the
// same run moves into the hole unless its home lies cyclically in (i, j].
func (sw *swarm) tableDelete(i uint64, seed uint64) {
	mask := uint64(len(sw.table) - 1)
	for j := (i + 1) & mask; sw.table[j] != 0; j = (j + 1) & mask {
		k := hashRec(&sw.peers[sw.table[j]-1], seed) & mask
		if (i <= j && i < k && k <= j) || (i > j && (i < k || k <= j)) {
			continue
		}
		sw.table[i] = sw.table[j]
		i = j
	}
	sw.table[i] = 0
}
