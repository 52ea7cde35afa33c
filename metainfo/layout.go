package metainfo

import (
	"path"

	"github.com/aiotorrent/aiotorrent/piece"
)

// Layout is the piece layer's view of the torrent: files laid end to end
// under the download directory (a multi-file torrent inside a directory
// called Name), and the piece hashes.
func (m *Torrent) Layout() piece.Layout {
	files := make([]piece.FileEntry, len(m.Files))
	for i, f := range m.Files {
		p := m.Name
		if m.MultiFile {
			p = path.Join(append([]string{m.Name}, f.Path...)...)
		}
		files[i] = piece.FileEntry{Path: p, Length: f.Length, Offset: f.Offset, Padding: f.Padding}
	}
	return piece.Layout{PieceLength: m.PieceLength, Length: m.Length, Files: files, Hashes: m.Pieces}
}
