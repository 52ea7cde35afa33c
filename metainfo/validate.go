package metainfo

import (
	"fmt"
	"math"
	"strings"
)

// buildInfo checks a decoded info dict and lays its files out. Every check
// here guards something downstream: the piece layer trusts the piece
// count and lengths, and storage trusts the paths.
func buildInfo(ri *rawInfo) (*Torrent, error) {
	if ri.Pieces == nil {
		if ri.MetaVersion >= 2 {
			return nil, fmt.Errorf("%w (meta version %d without pieces)", ErrV2NotSupported, ri.MetaVersion)
		}
		return nil, fmt.Errorf("%w: no pieces key", ErrBadPieces)
	}
	if err := checkComponent(ri.Name); err != nil {
		return nil, fmt.Errorf("%w: name %q: %s", ErrBadPath, ri.Name, err)
	}
	if ri.PieceLength <= 0 || ri.PieceLength > MaxPieceLength {
		return nil, fmt.Errorf("%w: %d, want 1..%d", ErrBadPieceLength, ri.PieceLength, MaxPieceLength)
	}
	m := &Torrent{
		Name:        ri.Name,
		PieceLength: ri.PieceLength,
		Private:     ri.Private == 1,
		Source:      ri.Source,
		MultiFile:   ri.Files != nil,
	}
	var err error
	switch {
	case ri.Length != nil && ri.Files != nil:
		return nil, fmt.Errorf("%w: both length and files", ErrBadFiles)
	case ri.Length != nil:
		if *ri.Length < 0 {
			return nil, fmt.Errorf("%w: length %d", ErrBadLength, *ri.Length)
		}
		m.Files = []File{{Path: []string{ri.Name}, Length: *ri.Length}}
		m.Length = *ri.Length
	case ri.Files != nil:
		if m.Files, m.Length, err = layoutFiles(ri.Files); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: neither length nor files", ErrBadFiles)
	}
	if m.Length == 0 {
		return nil, fmt.Errorf("%w: the torrent holds no data", ErrBadLength)
	}
	if m.Pieces, err = splitPieces(ri.Pieces, m.Length, m.PieceLength); err != nil {
		return nil, err
	}
	return m, nil
}

// layoutFiles checks a files list and gives each file its offset in the
// concatenated data.
func layoutFiles(raw []rawFile) ([]File, int64, error) {
	if len(raw) == 0 {
		return nil, 0, fmt.Errorf("%w: empty files list", ErrBadFiles)
	}
	files := make([]File, len(raw))
	var total int64
	paths := newPathSet()
	for i, rf := range raw {
		if rf.Length == nil {
			return nil, 0, fmt.Errorf("%w: file %d has no length", ErrBadLength, i)
		}
		n := *rf.Length
		if n < 0 || n > math.MaxInt64-total {
			return nil, 0, fmt.Errorf("%w: file %d: length %d (total so far %d)", ErrBadLength, i, n, total)
		}
		if len(rf.Path) == 0 {
			return nil, 0, fmt.Errorf("%w: file %d has an empty path", ErrBadPath, i)
		}
		for _, c := range rf.Path {
			if err := checkComponent(c); err != nil {
				return nil, 0, fmt.Errorf("%w: file %d %q: %s", ErrBadPath, i, strings.Join(rf.Path, "/"), err)
			}
		}
		// BEP 47: padding files are never written, so they may share a
		// path (".pad/N") and are left out of the collision check.
		padding := strings.ContainsRune(rf.Attr, 'p')
		if !padding {
			if err := paths.add(rf.Path); err != nil {
				return nil, 0, fmt.Errorf("%w: file %d: %s", ErrBadPath, i, err)
			}
		}
		files[i] = File{Path: rf.Path, Length: n, Offset: total, Padding: padding}
		total += n
	}
	return files, total, nil
}

// splitPieces checks that pieces holds exactly one SHA-1 per piece.
func splitPieces(pieces []byte, total, pieceLength int64) ([][20]byte, error) {
	if len(pieces)%20 != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a multiple of 20", ErrBadPieces, len(pieces))
	}
	want := total / pieceLength
	if total%pieceLength != 0 {
		want++
	}
	if got := int64(len(pieces) / 20); got != want {
		return nil, fmt.Errorf("%w: %d hashes for %d bytes in %d-byte pieces, want %d",
			ErrBadPieces, got, total, pieceLength, want)
	}
	out := make([][20]byte, want)
	for i := range out {
		copy(out[i][:], pieces[i*20:])
	}
	return out, nil
}

// checkComponent says why s is not a safe single path component, or
// returns nil. A component can never hold a separator, so a checked path
// cannot be absolute or climb out of the download directory.
func checkComponent(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty component")
	case s == "." || s == "..":
		return fmt.Errorf("component %q", s)
	case s[0] == '/' || s[0] == '\\':
		return fmt.Errorf("absolute path")
	case strings.ContainsRune(s, 0):
		return fmt.Errorf("NUL in component %q", s)
	case strings.ContainsAny(s, `/\`):
		return fmt.Errorf("path separator in component %q", s)
	}
	return nil
}

// pathSet finds files that would collide on disk: the same path twice, or
// a file whose path is also a directory of another file ("a" and "a/b").
// It is a trie of components, so checking costs time linear in the input
// however deep hostile paths go.
type pathSet struct {
	children map[string]*pathSet
	file     bool
}

func newPathSet() *pathSet { return &pathSet{} }

func (p *pathSet) add(path []string) error {
	node := p
	for i, c := range path {
		if node.file {
			return fmt.Errorf("directory %q is also a file", strings.Join(path[:i], "/"))
		}
		next := node.children[c]
		if next == nil {
			if node.children == nil {
				node.children = make(map[string]*pathSet)
			}
			next = &pathSet{}
			node.children[c] = next
		}
		node = next
	}
	full := strings.Join(path, "/")
	switch {
	case node.file:
		return fmt.Errorf("duplicate path %q", full)
	case len(node.children) > 0:
		return fmt.Errorf("path %q is also a directory", full)
	}
	node.file = true
	return nil
}
