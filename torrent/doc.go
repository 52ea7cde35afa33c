// Package torrent reads and writes what describes a torrent (metainfo,
// magnet links, torrent creation) and runs the sessions that download and
// seed them.
//
// # Architecture
//
// A Client is one node in the swarm: a peer id, one listening socket, and
// the Sessions it serves, to which incoming connections are routed by the
// info-hash in their handshake. A Session is one torrent; data flows
// through it as DESIGN.md draws it: tracker announces put addresses on a
// queue, a dialer takes them and runs one reader and one writer task per
// peer, piece.Picker chooses the blocks to request, a complete piece goes
// to the executor for SHA-1 and the write, and HAVE goes out to every
// peer. session.go lists the files that hold each concern. FetchMetadata
// turns a magnet link into a Metainfo over ut_metadata (BEP 9) first.
//
// The metainfo side is pure data with one trust boundary. Every .torrent
// and magnet link comes from the network, so parsing runs in two steps:
//
//  1. scanMetainfo walks the bencode iteratively (no recursion, so hostile
//     nesting cannot exhaust the stack), bounds size and depth, and cuts out
//     the info dict's bytes exactly as they stand. The info-hash is the
//     SHA-1 of those bytes; nothing is ever re-encoded to compute it.
//  2. Only then does the bencode package decode into plain structs, and
//     buildInfo checks every field the lower layers rely on: piece count
//     against total length, non-negative lengths, and file paths whose
//     components can never leave the download directory.
//
// Errors wrap sentinels (ErrBadPath, ErrBadPieces, ...) so callers and
// tests branch with errors.Is while users read the detail.
//
// Creating a torrent is the reverse: walk the files in mktorrent's order,
// hash pieces, and encode an info dict byte-for-byte equal to mktorrent's
// for the same input. Hashing is the only heavy part; hashPieces is a
// synchronous core over a range of pieces, and Create hands chunks of it to
// the aio executor and awaits them on the loop thread, so the loop never
// blocks on disk or SHA-1.
//
// Like every package above aio, torrent never starts goroutines, takes
// locks or uses channels: its state belongs to the loop thread. That
// thread makes socket calls and nothing else once a session runs: opening
// the storage, the resume check, hashing, writing, the per-block hashes of
// smart ban, creating empty files, closing files and allocating piece
// buffers are all executor jobs (in debug mode, piece.Storage reports a
// call on the loop thread; see aio.CheckBlocking).
package torrent
