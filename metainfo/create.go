package metainfo

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// Automatic piece lengths: powers of two from 16 KiB to 16 MiB, aiming for
// 1,000 to 2,000 pieces (fewer only when the data is small).
const (
	minAutoPieceLength = 16 << 10
	maxAutoPieceLength = 16 << 20
	maxAutoPieces      = 2000
)

// CreateOptions says what Create makes a torrent of and how.
type CreateOptions struct {
	// Path is the file or directory to share.
	Path string
	// Announce holds tracker tiers; the first URL becomes announce, and
	// announce-list is written when there is more than one URL (as
	// mktorrent does). Empty makes a trackerless torrent.
	Announce [][]string
	// PieceLength in bytes; 0 picks one (see AutoPieceLength).
	PieceLength int64
	Private     bool
	Comment     string
	// CreatedBy defaults to "aiotorrent".
	CreatedBy string
	// CreationDate defaults to now; NoCreationDate leaves it out, which
	// makes the output reproducible.
	CreationDate   time.Time
	NoCreationDate bool
	// Source is written into the info dict, so it changes the info-hash.
	Source   string
	WebSeeds []string
	// Name defaults to the base name of Path.
	Name string
	// Exclude, if set, is asked about every file and directory below a
	// directory Path, with its slash-separated path relative to Path;
	// true leaves it (and everything under it) out. Hidden files are
	// included unless excluded.
	Exclude func(rel string) bool
}

// createFile is one file to hash: where to read it and where it sits in
// the torrent.
type createFile struct {
	osPath string
	rel    []string // components below the torrent's directory
	length int64
	offset int64
}

// createPlan is everything known before hashing.
type createPlan struct {
	opts        CreateOptions
	name        string
	multi       bool
	files       []createFile
	total       int64
	pieceLength int64
	numPieces   int
}

// AutoPieceLength returns the piece length used for total bytes when
// CreateOptions.PieceLength is 0: the smallest power of two from 16 KiB to
// 16 MiB that gives at most 2,000 pieces.
func AutoPieceLength(total int64) int64 {
	pl := int64(minAutoPieceLength)
	for pl < maxAutoPieceLength && (total+pl-1)/pl > maxAutoPieces {
		pl *= 2
	}
	return pl
}

// planCreate walks the files and settles the name and piece length.
func planCreate(opts CreateOptions) (*createPlan, error) {
	abs, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	p := &createPlan{opts: opts, name: opts.Name}
	if p.name == "" {
		p.name = filepath.Base(abs)
	}
	if err := checkComponent(p.name); err != nil {
		return nil, fmt.Errorf("create: %w: name %q: %s", ErrBadPath, p.name, err)
	}
	// Stat follows a symlink given as Path, as mktorrent does.
	st, err := os.Stat(abs)
	switch {
	case err != nil:
		return nil, fmt.Errorf("create: %w", err)
	case st.IsDir():
		p.multi = true
		// WalkDir does not descend into a root that is a symlink.
		root, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("create: %w", err)
		}
		if p.files, err = walkFiles(root, opts.Exclude); err != nil {
			return nil, fmt.Errorf("create: %w", err)
		}
	case st.Mode().IsRegular():
		p.files = []createFile{{osPath: abs, rel: []string{p.name}, length: st.Size()}}
	default:
		return nil, fmt.Errorf("create: %s is neither a regular file nor a directory", opts.Path)
	}
	for i := range p.files {
		p.files[i].offset = p.total
		p.total += p.files[i].length
	}
	if p.total == 0 {
		return nil, fmt.Errorf("create: %w: %s holds no data", ErrBadLength, opts.Path)
	}
	p.pieceLength = opts.PieceLength
	if p.pieceLength == 0 {
		p.pieceLength = AutoPieceLength(p.total)
	}
	if p.pieceLength < 0 || p.pieceLength > MaxPieceLength {
		return nil, fmt.Errorf("create: %w: %d", ErrBadPieceLength, p.pieceLength)
	}
	p.numPieces = int((p.total + p.pieceLength - 1) / p.pieceLength)
	return p, nil
}

// walkFiles lists the regular files below root in mktorrent's order.
// Symlinks to files are followed like mktorrent does; symlinks to
// directories are not, so a link loop cannot make the walk endless.
func walkFiles(root string, exclude func(string) bool) ([]createFile, error) {
	var files []createFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == root {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if exclude != nil && exclude(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if !st.Mode().IsRegular() {
			return nil
		}
		parts := strings.Split(rel, "/")
		for _, c := range parts {
			if err := checkComponent(c); err != nil {
				return fmt.Errorf("%w: %s: %s", ErrBadPath, path, err)
			}
		}
		files = append(files, createFile{osPath: path, rel: parts, length: st.Size()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no files in %s", ErrBadFiles, root)
	}
	// mktorrent orders files by strcmp of the whole slash-joined path, so
	// "a.txt" comes before "a/x" ('.' < '/'); sorting by components would
	// differ, and so would the info-hash.
	slices.SortFunc(files, func(a, b createFile) int {
		return strings.Compare(strings.Join(a.rel, "/"), strings.Join(b.rel, "/"))
	})
	return files, nil
}

// infoDict is the info dict Create writes. The bencode package writes
// struct keys in sorted order, which gives mktorrent's exact bytes:
// files or length, name, piece length, pieces, private, source.
type infoDict struct {
	Files       []infoFile `bencode:"files,omitempty"`
	Length      int64      `bencode:"length,omitempty"`
	Name        string     `bencode:"name"`
	PieceLength int64      `bencode:"piece length"`
	Pieces      []byte     `bencode:"pieces"`
	Private     int64      `bencode:"private,omitempty"`
	Source      string     `bencode:"source,omitempty"`
}

type infoFile struct {
	Length int64    `bencode:"length"`
	Path   []string `bencode:"path"`
}

// torrentFile is the top-level dict Create writes, info kept as raw bytes.
type torrentFile struct {
	Announce     string        `bencode:"announce,omitempty"`
	AnnounceList [][]string    `bencode:"announce-list,omitempty"`
	Comment      string        `bencode:"comment,omitempty"`
	CreatedBy    string        `bencode:"created by,omitempty"`
	CreationDate int64         `bencode:"creation date,omitempty"`
	Info         bencode.Bytes `bencode:"info"`
	URLList      []string      `bencode:"url-list,omitempty"`
}

// encode writes the .torrent for the plan and its piece hashes, and parses
// it back so the caller gets exactly what a reader of the file would.
func (p *createPlan) encode(hashes [][20]byte) (*Torrent, []byte, error) {
	info := infoDict{
		Name:        p.name,
		PieceLength: p.pieceLength,
		Pieces:      make([]byte, 0, 20*len(hashes)),
		Source:      p.opts.Source,
	}
	for _, h := range hashes {
		info.Pieces = append(info.Pieces, h[:]...)
	}
	if p.opts.Private {
		info.Private = 1
	}
	if p.multi {
		for _, f := range p.files {
			info.Files = append(info.Files, infoFile{Length: f.length, Path: f.rel})
		}
	} else {
		info.Length = p.total
	}
	infoBytes, err := bencode.Marshal(info)
	if err != nil {
		return nil, nil, fmt.Errorf("create: encode info: %w", err)
	}
	tf := torrentFile{
		Comment:   p.opts.Comment,
		CreatedBy: p.opts.CreatedBy,
		Info:      infoBytes,
		URLList:   p.opts.WebSeeds,
	}
	if tf.CreatedBy == "" {
		tf.CreatedBy = "aiotorrent"
	}
	if !p.opts.NoCreationDate {
		date := p.opts.CreationDate
		if date.IsZero() {
			date = time.Now()
		}
		tf.CreationDate = date.Unix()
	}
	tf.Announce, tf.AnnounceList = announceKeys(p.opts.Announce)
	data, err := bencode.Marshal(tf)
	if err != nil {
		return nil, nil, fmt.Errorf("create: encode: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("create: the torrent made does not parse: %w", err)
	}
	return m, data, nil
}

// announceKeys gives announce and, when there is more than one URL,
// announce-list, dropping empty URLs and tiers.
func announceKeys(tiers [][]string) (string, [][]string) {
	clean := cleanTiers(tiers, "")
	if len(clean) == 0 {
		return "", nil
	}
	if len(clean) == 1 && len(clean[0]) == 1 {
		return clean[0][0], nil
	}
	return clean[0][0], clean
}
