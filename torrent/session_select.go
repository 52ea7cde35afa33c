package torrent

import (
	"slices"

	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/piece"
)

// Selective download: SessionOptions.SkipFiles becomes the picker's
// wanted pieces, and the session counts wanted bytes apart from all the
// bytes it has (a straddling piece of a skipped file is had and served,
// but it is not what the user asked for).

// wantedPieces turns SkipFiles into the picker's wanted pieces (nil when
// nothing is skipped) and the bytes they hold.
func wantedPieces(m *metainfo.Torrent, skip []bool) (*piece.Bitfield, int64) {
	if !slices.Contains(skip, true) {
		return nil, m.Length
	}
	l := m.Layout()
	wanted := l.WantedPieces(skip)
	var n int64
	for i := wanted.NextSet(0); i >= 0; i = wanted.NextSet(i + 1) {
		n += l.PieceSize(i)
	}
	return wanted, n
}

// wants reports whether piece i is wanted and not yet verified.
func (s *Session) wants(i int) bool {
	return !s.picker.Have(i) && (s.wanted == nil || s.wanted.Has(i))
}

// countVerified adds verified piece i to the byte counts.
func (s *Session) countVerified(i int) {
	n := int64(s.picker.PieceSize(i))
	s.haveBytes += n
	if s.wanted == nil || s.wanted.Has(i) {
		s.verified += n
	}
}
