// Package peer speaks the BitTorrent peer wire protocol: the handshake
// (BEP 3), the framed messages of BEP 3, the port message of BEP 5, the fast
// extension's messages and allowed fast set (BEP 6, fast.go), the envelope
// of the extension protocol and its handshake (BEP 10) with BEP 9's
// ut_metadata (extension.go), and BEP 11's peer exchange: the ut_pex codec
// (pex.go) and PexState, which turns the connected peers into the diffs
// each peer is sent (pex_state.go).
//
// # Architecture
//
// The codec in this package does no I/O, keeps no state and starts nothing.
// Conn (conn.go, conn_write.go) drives it on the aio loop: it reads from
// its Stream (stream.go: a TCP socket, or an encrypted stream from the
// peer/mse subpackage, which sits under Conn and changes nothing above it)
// into one buffer it owns, decodes whatever complete frames sit
// at the front, and encodes replies into one output buffer it owns. Because the codec is pure functions over byte
// slices, it is tested byte for byte, fuzzed, and benchmarked without a loop
// or a socket.
//
// Decoding is streaming and allocation-free. ParseMessage looks at the
// front of the read buffer and returns one message and the bytes it used,
// or n == 0 to ask for more; a decoded payload (a bitfield, a block, an
// extended message) aliases the buffer rather than being copied. A block
// can skip the buffer altogether: ParsePieceHeader decodes the 13-byte
// header of a piece frame, and the task reads the block straight into the
// piece's own buffer.
//
// Encoding appends to a caller's slice (AppendRequest, AppendHave, ...),
// so a connection that reuses its output buffer sends without allocating.
// An outgoing block is the 13 bytes of AppendPieceHeader followed by the
// block itself in one vectored write, again without a copy.
//
// # Hostile input
//
// Everything a peer sends is checked against Limits before it is trusted:
// the length prefix against the largest legal message as soon as its four
// bytes arrive (so a peer cannot make us buffer more), each message type
// against its exact length, piece indexes against the piece count, block
// lengths against 16 KiB, and a bitfield's length and spare bits. Nothing
// is ever allocated from a length the peer chose. Violations are sentinel
// errors (ErrMessageTooLong, ErrBadLength, ...) wrapped with the offending
// values, so the session can log why it drops the peer. Checks that need
// the torrent's piece sizes or the session's outstanding requests belong
// to the session; ValidateRequest covers the first.
package peer
