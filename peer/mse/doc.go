// Package mse is Message Stream Encryption (also called Protocol
// Encryption, PE), the obfuscated handshake and RC4 stream that most
// BitTorrent clients speak, so that a peer requiring encryption talks to
// us. It sits under peer.Conn: Initiate and Accept turn a TCP stream into
// an encrypted one with the same method set (Stream, which is
// peer.Stream), and the wire protocol above does not change.
//
// # The handshake
//
// A is the side that connects, B the one that accepts. Y is a 768-bit
// Diffie-Hellman public key (g = 2, the spec's fixed prime), S the shared
// secret, SKEY the torrent's info hash, HASH SHA-1, and ENCRYPT RC4 keyed
// with HASH('keyA', S, SKEY) for what A sends and HASH('keyB', S, SKEY)
// for what B sends, each with its first 1024 bytes of keystream dropped.
//
//	1 A->B: Ya, PadA
//	2 B->A: Yb, PadB
//	3 A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
//	        ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//	4 B->A: ENCRYPT(VC, crypto_select, len(PadD), PadD)
//	5 both: the payload stream, RC4-encrypted or plaintext as selected
//
// PadA and PadB are 0–512 random bytes, so neither side knows where the
// other's next field starts: B scans for HASH('req1', S) in at most
// 512 + 20 bytes after Ya, A for ENCRYPT(VC) (VC is eight zero bytes) in
// at most 512 + 8 after Yb. The scan for the VC compares against the
// keystream's first eight bytes, computed once, so a failed trial does
// not advance the cipher. HASH('req2', SKEY) xor HASH('req3', S) lets B
// find which of its torrents A means without SKEY crossing the wire; see
// SKeyLookup. IA, the initial payload, is A's BitTorrent handshake, so
// the handshakes cost no extra round trip. crypto_provide is A's set of
// methods (Plaintext 0x01, RC4 0x02), crypto_select B's one choice. We
// send PadC and PadD empty, as the spec advises; we accept up to 512
// bytes of either.
//
// # On the loop
//
// Both sides are plain functions on an aio task, reading and writing the
// stream as the handshake goes. The two modular exponentiations of a key
// exchange take about 90 µs each (BenchmarkKeyExchange), over the
// loop's budget for one step, so they run as executor jobs
// (aio.Blocking): A makes its key before step 1 and S after step 2, B
// makes both in one job after step 1. The hashes and RC4 set-up are a few
// microseconds and stay on the loop.
//
// The handshake reader never reads past the end of the handshake: while
// scanning it asks for no more bytes than could complete the mark, and
// afterwards for exact lengths. Nothing is left buffered when it returns,
// so plaintext-in-MSE hands back the raw stream itself, and RC4 a thin
// wrapper that decrypts in place and encrypts into a reused scratch
// buffer (never in the caller's memory: blocks come from a shared cache).
//
// # Hostile input
//
// A peer controls padding lengths, crypto fields and the payload length.
// The scans stop after 512 bytes of padding (ErrSync), PadC and PadD are
// refused above 512 (ErrPadding), the initial payload above
// MaxInitialPayload (ErrPayloadTooLong); the only memory sized from the
// peer's numbers is bounded by those constants. A public key outside
// 2..p-2 is ErrBadKey; a torrent we do not have ErrUnknownTorrent; no
// shared method ErrNoSharedMethod; a selection we did not offer
// ErrBadSelect; a stall the timeout (aio.ErrTimeout). Errors wrap these
// sentinels with the peer's address, and the stream is closed.
package mse

import "errors"

// The errors a handshake fails with, wrapped with the peer's address and
// details; branch on them with errors.Is.
var (
	// ErrSync: the peer's req1 hash (at B) or encrypted VC (at A) did not
	// show within 512 bytes of padding, or the VC decrypted to non-zero:
	// the peer is not speaking MSE, or not with us.
	ErrSync = errors.New("mse: handshake out of sync")
	// ErrPadding: PadC or PadD longer than 512 bytes.
	ErrPadding = errors.New("mse: padding longer than 512 bytes")
	// ErrPayloadTooLong: an initial payload longer than MaxInitialPayload.
	ErrPayloadTooLong = errors.New("mse: initial payload too long")
	// ErrBadKey: a Diffie-Hellman public key outside 2..p-2.
	ErrBadKey = errors.New("mse: bad public key")
	// ErrUnknownTorrent: the initiator asked for an info hash the
	// receiver's SKeyLookup does not know.
	ErrUnknownTorrent = errors.New("mse: unknown torrent")
	// ErrNoSharedMethod: the initiator provides no method the receiver
	// allows (for example plaintext only, to a receiver requiring RC4).
	ErrNoSharedMethod = errors.New("mse: no shared crypto method")
	// ErrBadSelect: the receiver selected a method the initiator did not
	// provide, or more than one.
	ErrBadSelect = errors.New("mse: peer selected a method not offered")
)

// MaxInitialPayload bounds the initial payload (IA) in either direction.
// Clients send their 68-byte BitTorrent handshake there; a little more
// leaves room for one that sends its first messages too.
const MaxInitialPayload = 1024
