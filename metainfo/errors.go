package metainfo

import "errors"

// Sentinel errors returned (wrapped, with details) by Parse and
// Load. Callers branch on them with errors.Is; the wrapped message
// says which field or file was at fault.
var (
	// ErrTooLarge: the input is larger than MaxSize.
	ErrTooLarge = errors.New("metainfo too large")
	// ErrSyntax: the input is not well-formed bencode (truncated, bad
	// integer or string length, trailing bytes, unknown type byte).
	ErrSyntax = errors.New("malformed bencode")
	// ErrTooDeep: lists and dicts nest deeper than MaxNesting.
	ErrTooDeep = errors.New("bencode nested too deeply")
	// ErrBadType: a known key holds a value of the wrong bencode type.
	ErrBadType = errors.New("wrong bencode type")
	// ErrMissingInfo: the top-level dict has no info dict.
	ErrMissingInfo = errors.New("missing info dict")
	// ErrBadPieceLength: piece length is not in 1..MaxPieceLength.
	ErrBadPieceLength = errors.New("bad piece length")
	// ErrBadPieces: pieces is missing, not a multiple of 20 bytes, or does
	// not hold one hash per piece of the total length.
	ErrBadPieces = errors.New("bad pieces")
	// ErrBadLength: a negative file length, or a total that overflows or
	// is zero.
	ErrBadLength = errors.New("bad length")
	// ErrBadFiles: the info dict has an empty file list, or both or
	// neither of length and files.
	ErrBadFiles = errors.New("bad file list")
	// ErrBadPath: a name or file path that is empty, absolute, holds "."
	// or ".." or a NUL or a path separator, or collides with another file.
	ErrBadPath = errors.New("unsafe file path")
	// ErrV2NotSupported: a BitTorrent v2-only torrent (BEP 52: meta
	// version 2 and no v1 pieces). Hybrid torrents are read through their
	// v1 part.
	ErrV2NotSupported = errors.New("BitTorrent v2-only torrents are not supported yet")
)
