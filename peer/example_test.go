package peer_test

import (
	"fmt"
	"net/netip"

	"github.com/aiotorrent/aiotorrent/peer"
)

// A connection task decodes whatever complete frames are at the front of
// its read buffer, then reads more when ParseMessage asks for it (n == 0).
func ExampleParseMessage() {
	var out []byte // what a peer wrote; the last frame has not fully arrived
	out = peer.AppendUnchoke(out)
	out = peer.AppendHave(out, 7)
	out = peer.AppendRequest(out, 7, 0, peer.BlockSize)
	buf := out[:len(out)-3]

	lim := peer.Limits{NumPieces: 100}
	for {
		msg, n, err := peer.ParseMessage(buf, lim)
		if err != nil {
			fmt.Println("drop the peer:", err)
			return
		}
		if n == 0 {
			fmt.Printf("need more: %d bytes buffered\n", len(buf))
			return
		}
		fmt.Println(msg)
		buf = buf[n:]
	}
	// Output:
	// unchoke
	// have 7
	// need more: 14 bytes buffered
}

// A block can go straight into the piece's buffer: decode the 13-byte
// header, copy the part of the block already buffered, and read the rest
// from the socket into the same place.
func ExampleParsePieceHeader() {
	block := []byte("sixteen KiB, say")
	wire := peer.AppendPiece(nil, 3, 0, block)
	buf := wire[:20] // the socket has delivered 20 bytes so far

	pieceBuf := make([]byte, 64)
	msg, n, err := peer.ParsePieceHeader(buf, peer.Limits{NumPieces: 10})
	if err != nil || n == 0 {
		return
	}
	dst := pieceBuf[msg.Begin : msg.Begin+msg.Length]
	got := copy(dst, buf[n:])
	fmt.Printf("%v: %d bytes copied, %d left to read into the piece\n", msg, got, len(dst)-got)
	// Output: piece 3:0+16: 7 bytes copied, 9 left to read into the piece
}

// A session sets a reserved bit only once its extension is implemented
// (none is yet); this shows the calls it will make.
func ExampleReserved() {
	h := peer.Handshake{PeerID: peer.NewPeerID()}
	h.Reserved.Set(peer.ExtensionProtocolBit)
	fmt.Println(h.Reserved.Has(peer.ExtensionProtocolBit), h.Reserved.Has(peer.FastExtensionBit))
	fmt.Println(len(peer.AppendHandshake(nil, h)))
	// Output:
	// true false
	// 68
}

// A session keeps one PexState per peer that speaks ut_pex and, once a
// minute, sends it what changed among the connected peers.
func ExamplePexState() {
	theirID := uint8(2) // from their extension handshake's m["ut_pex"]
	var st peer.PexState
	connected := map[netip.AddrPort]peer.PexFlags{
		netip.MustParseAddrPort("192.0.2.1:6881"):     peer.PexReachable,
		netip.MustParseAddrPort("[2001:db8::9]:6881"): peer.PexSeed | peer.PexReachable,
	}
	for minute := range 3 {
		if minute == 2 {
			delete(connected, netip.MustParseAddrPort("192.0.2.1:6881"))
		}
		m, ok := st.Update(connected)
		if !ok {
			fmt.Printf("minute %d: nothing to send\n", minute)
			continue
		}
		frame := peer.AppendPexMsg(nil, theirID, m)
		fmt.Printf("minute %d: %d bytes, added %v, dropped %v\n", minute, len(frame), m.Added, m.Dropped)
	}
	// Output:
	// minute 0: 88 bytes, added [192.0.2.1:6881 [2001:db8::9]:6881], dropped []
	// minute 1: nothing to send
	// minute 2: 45 bytes, added [], dropped [192.0.2.1:6881]
}
