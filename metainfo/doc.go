// Package metainfo reads and writes what describes a torrent: .torrent
// files (BEP 3), magnet links (BEP 9), and new torrents made from files on
// disk. It knows nothing about peers or sessions; package torrent takes a
// Torrent from here and downloads or seeds it.
//
// # What is here
//
//	metainfo.go   Torrent and File; Load, Parse and ParseInfo
//	scan.go       the bencode scanner that runs before any decoding
//	validate.go   the checks on an info dict: pieces, lengths, safe paths
//	errors.go     the sentinel errors every parse error wraps
//	magnet.go     Magnet and ParseMagnet; a Torrent's magnet link
//	layout.go     a Torrent as piece.Layout, for storage and verification
//	create*.go    Create: walk files, hash pieces, encode like mktorrent
//
// A Torrent is plain data: the info-hash, the piece hashes, the files laid
// end to end, and the trackers and web seeds. A magnet link carries only
// the info-hash and hints (name, trackers, peers); torrent.FetchMetadata
// turns it into a Torrent by asking peers for the info dict, which
// ParseInfo then checks like any other.
//
// # Parsing hostile input
//
// Every .torrent, info dict and magnet link comes from the network, so
// parsing runs in two steps:
//
//  1. scanMetainfo walks the bencode iteratively (no recursion, so hostile
//     nesting cannot exhaust the stack), bounds size (MaxSize) and depth
//     (MaxNesting), insists on sorted unique dict keys, and cuts out the
//     info dict's bytes exactly as they stand. The info-hash is the SHA-1
//     of those bytes; nothing is ever re-encoded to compute it.
//  2. Only then does the bencode package decode into plain structs, and
//     buildInfo checks every field the lower layers rely on: piece count
//     against total length, non-negative lengths, and file paths whose
//     components can never leave the download directory.
//
// Errors wrap sentinels (ErrBadPath, ErrBadPieces, ErrBadMagnet, ...) so
// callers and tests branch with errors.Is while users read the detail.
//
// # Creating a torrent
//
// Create is parsing in reverse: walk the files in mktorrent's order, hash
// the pieces, and encode an info dict byte-for-byte equal to mktorrent's
// for the same input, so both tools give the same info-hash. Hashing is
// the only heavy part. hashPieces is a synchronous core over a range of
// pieces; Create hands chunks of it to the aio executor and awaits them
// from a task, so the loop thread never blocks on disk or SHA-1.
// CreateSync runs the same steps on the calling goroutine, for tests and
// tools without a loop.
//
// # Where it sits
//
// metainfo imports piece (for Layout) and aio (for Create's executor
// jobs), and nothing else of ours. torrent and the CLI import it; the
// CLI's info, create and verify commands need nothing more, so they run
// without the session engine.
package metainfo
