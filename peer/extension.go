package peer

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"

	"github.com/anacrolix/torrent/bencode"
)

// BEP 10: the extension protocol. A peer that sets ExtensionProtocolBit in
// its handshake sends, as its first extended message (ext id 0), a
// bencoded dictionary naming the extensions it speaks and the message id
// it wants each one sent under:
//
//	<len><id=20><ext=0>d1:md11:ut_metadatai3ee13:metadata_sizei31235ee
//
// BEP 9: ut_metadata moves the info dictionary in 16 KiB pieces, so that a
// magnet link (an info-hash) becomes a torrent:
//
//	<len><id=20><ext=their ut_metadata id>d8:msg_typei0e5:piecei0ee           request
//	<len><id=20><ext=...>d8:msg_typei1e5:piecei0e10:total_sizei31235ee<data>  data
//	<len><id=20><ext=...>d8:msg_typei2e5:piecei0ee                           reject

// Extension names and limits.
const (
	// ExtHandshakeID is the extended message id of the BEP 10 handshake.
	ExtHandshakeID = 0
	// UTMetadata is BEP 9's extension name.
	UTMetadata = "ut_metadata"
	// MetadataPieceSize is the size of every metadata piece but the last.
	MetadataPieceSize = 16 << 10
	// MaxMetadataSize caps the info dictionary a peer may announce (BEP 9
	// sets no limit; 8 MiB holds the pieces of a 160 GiB torrent in 4 MiB
	// pieces and stops a peer from making us allocate more).
	MaxMetadataSize = 8 << 20
)

// ut_metadata message types.
const (
	MetadataRequest = 0
	MetadataData    = 1
	MetadataReject  = 2
)

// ErrBadExtension is wrapped by every error decoding BEP 9/10 messages.
var ErrBadExtension = errors.New("bad extension message")

// ExtHandshake is the BEP 10 handshake dictionary (the keys we use). Zero
// fields are left out when encoding and mean "not sent" when decoding.
type ExtHandshake struct {
	M            map[string]int `bencode:"m"`
	V            string         `bencode:"v,omitempty"`
	MetadataSize int            `bencode:"metadata_size,omitempty"`
	// Reqq is how many requests the sender queues without dropping any
	// (libtorrent: 250). Read it through RequestQueue.
	Reqq int `bencode:"reqq,omitempty"`
	// P is the sender's TCP listen port: the port to give out in PEX for a
	// peer that connected to us from an ephemeral one.
	P int `bencode:"p,omitempty"`
	// E is 1 when the sender prefers encrypted connections (MSE): a peer
	// passing it on in PEX sets the encryption flag.
	E int `bencode:"e,omitempty"`
	// YourIP is the address the sender sees the receiver at, 4 or 16
	// bytes, without a port: a hint at our external address.
	YourIP []byte `bencode:"yourip,omitempty"`
}

// RequestQueue is how many requests to keep out to the peer: its reqq
// clamped to [1, max] (a huge reqq is the peer's claim, not our budget),
// or def if it sent none.
func (h ExtHandshake) RequestQueue(def, max int) int {
	if h.Reqq <= 0 {
		return def
	}
	return min(h.Reqq, max)
}

// YourAddr returns YourIP as an address (an IPv4-mapped one unmapped), and
// false if the peer sent none.
func (h ExtHandshake) YourAddr() (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(h.YourIP)
	return a.Unmap(), ok
}

// AppendExtHandshake appends a whole extended-handshake frame.
func AppendExtHandshake(dst []byte, h ExtHandshake) []byte {
	body, err := bencode.Marshal(h)
	if err != nil {
		panic(err) // the struct is always encodable
	}
	return AppendExtended(dst, ExtHandshakeID, body)
}

// ParseExtHandshake decodes the payload of an extended message with ext id
// 0. Unknown keys are ignored, as BEP 10 requires. An extension id outside
// 0..255, a metadata_size over MaxMetadataSize, a p outside 0..65535 or a
// negative reqq is an error. A yourip that is neither 4 nor 16 bytes is
// dropped rather than failing the handshake: it is only a hint, and the
// rest of the dictionary is still good.
func ParseExtHandshake(payload []byte) (ExtHandshake, error) {
	var h ExtHandshake
	if err := bencode.Unmarshal(payload, &h); err != nil {
		return ExtHandshake{}, fmt.Errorf("extension handshake: %v: %w", err, ErrBadExtension)
	}
	for name, id := range h.M {
		if id < 0 || id > 255 {
			return ExtHandshake{}, fmt.Errorf("extension handshake: %q has id %d: %w", name, id, ErrBadExtension)
		}
	}
	switch {
	case h.MetadataSize < 0 || h.MetadataSize > MaxMetadataSize:
		return ExtHandshake{}, fmt.Errorf("extension handshake: metadata_size %d: %w", h.MetadataSize, ErrBadExtension)
	case h.P < 0 || h.P > 65535:
		return ExtHandshake{}, fmt.Errorf("extension handshake: p %d: %w", h.P, ErrBadExtension)
	case h.Reqq < 0:
		return ExtHandshake{}, fmt.Errorf("extension handshake: reqq %d: %w", h.Reqq, ErrBadExtension)
	}
	if len(h.YourIP) != 4 && len(h.YourIP) != 16 {
		h.YourIP = nil
	}
	return h, nil
}

// MetadataMsg is one ut_metadata message.
type MetadataMsg struct {
	Type      int    `bencode:"msg_type"`
	Piece     int    `bencode:"piece"`
	TotalSize int    `bencode:"total_size,omitempty"`
	Data      []byte `bencode:"-"` // the piece, after the dictionary (data messages)
}

// AppendMetadataMsg appends a whole ut_metadata frame, sent under extID
// (the id the receiver asked for in its handshake).
func AppendMetadataMsg(dst []byte, extID uint8, m MetadataMsg) []byte {
	body, err := bencode.Marshal(m)
	if err != nil {
		panic(err)
	}
	return AppendExtended(dst, extID, append(body, m.Data...))
}

// ParseMetadataMsg decodes a ut_metadata payload. Data aliases payload.
func ParseMetadataMsg(payload []byte) (MetadataMsg, error) {
	var m MetadataMsg
	d := bencode.NewDecoder(bytes.NewReader(payload))
	if err := d.Decode(&m); err != nil {
		return MetadataMsg{}, fmt.Errorf("ut_metadata: %v: %w", err, ErrBadExtension)
	}
	m.Data = payload[d.Offset:]
	switch {
	case m.Type < MetadataRequest || m.Type > MetadataReject:
		return MetadataMsg{}, fmt.Errorf("ut_metadata: msg_type %d: %w", m.Type, ErrBadExtension)
	case m.Piece < 0 || m.Piece >= MaxMetadataSize/MetadataPieceSize:
		return MetadataMsg{}, fmt.Errorf("ut_metadata: piece %d: %w", m.Piece, ErrBadExtension)
	case m.Type == MetadataData && (m.TotalSize <= 0 || m.TotalSize > MaxMetadataSize || len(m.Data) > MetadataPieceSize):
		return MetadataMsg{}, fmt.Errorf("ut_metadata: data of %d bytes, total %d: %w", len(m.Data), m.TotalSize, ErrBadExtension)
	case m.Type != MetadataData && len(m.Data) > 0:
		return MetadataMsg{}, fmt.Errorf("ut_metadata: %d bytes after a non-data message: %w", len(m.Data), ErrBadExtension)
	}
	return m, nil
}
