package metainfo

import (
	"crypto/sha1"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// Limits on untrusted metainfo. A .torrent for a multi-terabyte torrent
// with 16 MiB pieces is a few hundred KiB; 64 MiB leaves room for huge file
// lists while bounding what a hostile file can make us allocate.
const (
	// MaxSize is the largest .torrent (or info dict) accepted.
	MaxSize = 64 << 20
	// MaxPieceLength is the largest piece length accepted; the piece layer
	// holds whole pieces in memory.
	MaxPieceLength = 256 << 20
)

// Torrent is a parsed .torrent file (BEP 3) with its BEP 12 tiers, BEP 19
// web seeds, BEP 27 private flag and BEP 47 padding files. Every file path
// in it has been checked to stay inside the download directory.
type Torrent struct {
	// Name is the suggested file name (single-file) or directory name.
	Name string
	// InfoHash is the SHA-1 of the info dict's bytes as they stand in the
	// file.
	InfoHash [20]byte
	// InfoBytes is the raw info dict, as served over ut_metadata (BEP 9).
	InfoBytes []byte
	// PieceLength is the nominal piece size; only the last piece is shorter.
	PieceLength int64
	// Pieces holds one SHA-1 per piece.
	Pieces [][20]byte
	// MultiFile is true when the info dict has a files list: the files
	// then live in a directory called Name.
	MultiFile bool
	// Files lists the files in torrent order. A single-file torrent has
	// one File whose Path is [Name].
	Files []File
	// Length is the total length of all files, padding included.
	Length int64

	// Announce is the single tracker URL of BEP 3 (often also the first
	// URL of AnnounceList).
	Announce string
	// AnnounceList holds the tracker tiers (BEP 12) with empty and
	// repeated URLs and empty tiers dropped. If the file has none but has
	// an announce URL, it is [[Announce]].
	AnnounceList [][]string
	// URLList holds the web seeds (BEP 19).
	URLList []string
	// Private (BEP 27) forbids finding peers other than from the trackers.
	Private bool
	// Comment, CreatedBy and CreationDate (zero if absent) are
	// informational only.
	Comment      string
	CreatedBy    string
	CreationDate time.Time
	// Source is the info dict's source tag, which private trackers use to
	// make the info-hash unique to them.
	Source string
}

// File is one file of a torrent, laid out in the concatenated data.
type File struct {
	// Path holds the components inside the torrent's directory, each one
	// checked: not empty, ".", "..", and free of NUL, '/' and '\'.
	Path []string
	// Length in bytes.
	Length int64
	// Offset of the file's first byte in the torrent's concatenated data.
	Offset int64
	// Padding marks a BEP 47 padding file: it takes up space in the
	// piece layout, is all zeros, and is never created on disk.
	Padding bool
}

// rawMetainfo is the top-level dict as bencode holds it. The info dict is
// decoded apart from the bytes scanMetainfo cut out; naming it here only
// makes the decoder copy it instead of building a throwaway tree of maps.
type rawMetainfo struct {
	Info         bencode.Bytes `bencode:"info"`
	Announce     string        `bencode:"announce"`
	AnnounceList [][]string    `bencode:"announce-list"`
	URLList      bencode.Bytes `bencode:"url-list"` // a string or a list
	Comment      string        `bencode:"comment"`
	CreatedBy    string        `bencode:"created by"`
	CreationDate int64         `bencode:"creation date"`
}

// rawInfo is the info dict. Pointers and nil slices tell a missing key
// from a zero value.
type rawInfo struct {
	Name        string    `bencode:"name"`
	PieceLength int64     `bencode:"piece length"`
	Pieces      []byte    `bencode:"pieces"`
	Length      *int64    `bencode:"length"`
	Files       []rawFile `bencode:"files"`
	Private     int64     `bencode:"private"`
	Source      string    `bencode:"source"`
	MetaVersion int64     `bencode:"meta version"`
}

type rawFile struct {
	Length *int64   `bencode:"length"`
	Path   []string `bencode:"path"`
	Attr   string   `bencode:"attr"`
}

// Load reads and parses a .torrent file.
func Load(path string) (*Torrent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load metainfo: %w", err)
	}
	defer f.Close()
	// Read one byte past the limit so that an oversized file is reported
	// as such rather than as truncated bencode.
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("load metainfo %s: %w", path, err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load metainfo %s: %w", path, err)
	}
	return m, nil
}

// Parse parses and validates a .torrent file. Errors wrap one of
// the Err* sentinels of this package.
func Parse(data []byte) (*Torrent, error) {
	info, err := scanMetainfo(data)
	if err != nil {
		return nil, fmt.Errorf("parse metainfo: %w", err)
	}
	if info == nil {
		return nil, fmt.Errorf("parse metainfo: %w", ErrMissingInfo)
	}
	var raw rawMetainfo
	if err := bencode.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse metainfo: %w: %w", ErrBadType, err)
	}
	m, err := parseInfo(info)
	if err != nil {
		return nil, fmt.Errorf("parse metainfo: %w", err)
	}
	m.Announce = raw.Announce
	m.AnnounceList = cleanTiers(raw.AnnounceList, raw.Announce)
	m.URLList = parseURLList(raw.URLList)
	m.Comment = raw.Comment
	m.CreatedBy = raw.CreatedBy
	if raw.CreationDate != 0 {
		m.CreationDate = time.Unix(raw.CreationDate, 0).UTC()
	}
	return m, nil
}

// ParseInfo parses and validates a bare info dict, as fetched from peers
// with ut_metadata for a magnet link. The result has no trackers.
func ParseInfo(info []byte) (*Torrent, error) {
	if len(info) > MaxSize {
		return nil, fmt.Errorf("parse info: %w: %d bytes, limit %d", ErrTooLarge, len(info), MaxSize)
	}
	// Wrap the info in a dict so the same scanner checks its syntax and
	// depth before the recursive decoder sees it.
	wrapped := make([]byte, 0, len(info)+9)
	wrapped = append(append(append(wrapped, "d4:info"...), info...), 'e')
	if _, err := scanMetainfo(wrapped); err != nil {
		return nil, fmt.Errorf("parse info: %w", err)
	}
	m, err := parseInfo(info)
	if err != nil {
		return nil, fmt.Errorf("parse info: %w", err)
	}
	return m, nil
}

// parseInfo decodes and validates an info dict whose syntax and depth
// scanMetainfo has already checked.
func parseInfo(info []byte) (*Torrent, error) {
	var ri rawInfo
	if err := bencode.Unmarshal(info, &ri); err != nil {
		return nil, fmt.Errorf("info: %w: %w", ErrBadType, err)
	}
	m, err := buildInfo(&ri)
	if err != nil {
		return nil, err
	}
	m.InfoBytes = append([]byte(nil), info...)
	m.InfoHash = sha1.Sum(info)
	return m, nil
}

// cleanTiers drops empty URLs, duplicates and empty tiers, and falls back
// to the single announce URL when there are no tiers (BEP 12).
func cleanTiers(tiers [][]string, announce string) [][]string {
	seen := make(map[string]bool)
	var out [][]string
	for _, tier := range tiers {
		var t []string
		for _, u := range tier {
			if u != "" && !seen[u] {
				seen[u] = true
				t = append(t, u)
			}
		}
		if len(t) > 0 {
			out = append(out, t)
		}
	}
	if len(out) == 0 && announce != "" {
		out = [][]string{{announce}}
	}
	return out
}

// parseURLList accepts url-list as one string or a list of strings (both
// occur: mktorrent writes a string for a single web seed). Anything else
// is ignored, since web seeds are optional.
func parseURLList(b bencode.Bytes) []string {
	if len(b) == 0 {
		return nil
	}
	var one string
	if bencode.Unmarshal(b, &one) == nil {
		if one == "" {
			return nil
		}
		return []string{one}
	}
	var list []string
	if bencode.Unmarshal(b, &list) != nil {
		return nil
	}
	var out []string
	for _, u := range list {
		if u != "" {
			out = append(out, u)
		}
	}
	return out
}

// NumPieces returns the number of pieces.
func (m *Torrent) NumPieces() int { return len(m.Pieces) }

// PieceSize returns the length of piece i: PieceLength, except for the
// last piece, which holds what is left. It returns 0 for an index out of
// range.
func (m *Torrent) PieceSize(i int) int64 {
	if i < 0 || i >= len(m.Pieces) {
		return 0
	}
	if i == len(m.Pieces)-1 {
		return m.Length - int64(i)*m.PieceLength
	}
	return m.PieceLength
}

// Trackers returns a copy of the tracker tiers (see AnnounceList).
func (m *Torrent) Trackers() [][]string {
	out := make([][]string, len(m.AnnounceList))
	for i, tier := range m.AnnounceList {
		out[i] = append([]string(nil), tier...)
	}
	return out
}

// FilePath returns file i's path relative to the download directory, in
// the OS's form: Name for a single-file torrent, Name/Path... otherwise.
// The components were checked when parsing, so the result never leaves
// the download directory; a Torrent built by hand with unsafe components
// gets "" instead.
func (m *Torrent) FilePath(i int) string {
	if i < 0 || i >= len(m.Files) || checkComponent(m.Name) != nil {
		return ""
	}
	if !m.MultiFile {
		return m.Name
	}
	parts := make([]string, 0, len(m.Files[i].Path)+1)
	parts = append(parts, m.Name)
	for _, c := range m.Files[i].Path {
		if checkComponent(c) != nil {
			return ""
		}
		parts = append(parts, c)
	}
	return filepath.Join(parts...)
}

// HexInfoHash returns the info-hash as 40 lower-case hex digits.
func (m *Torrent) HexInfoHash() string { return fmt.Sprintf("%x", m.InfoHash[:]) }
