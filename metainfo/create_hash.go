package metainfo

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// errShortFile reports a file that shrank between the walk and the read.
var errShortFile = errors.New("file is shorter than when the torrent was planned")

// hashPieces hashes count pieces starting at piece first, reading across
// the concatenated files with ReadAt. It blocks on disk and CPU, so the
// async Create runs it on the executor; it shares nothing, so any number
// of calls on different ranges can run at once.
func hashPieces(files []createFile, total, pieceLength int64, first, count int) ([][20]byte, error) {
	r := concatReader{files: files}
	defer r.close()
	start := int64(first) * pieceLength
	out := make([][20]byte, 0, count)
	buf := make([]byte, pieceLength)
	for i := 0; i < count; i++ {
		off := start + int64(i)*pieceLength
		if off >= total {
			break
		}
		n := min(pieceLength, total-off)
		if err := r.readAt(buf[:n], off); err != nil {
			return nil, fmt.Errorf("hash piece %d: %w", first+i, err)
		}
		out = append(out, sha1.Sum(buf[:n]))
	}
	return out, nil
}

// concatReader reads the files as one stream, keeping the last file open
// because pieces are read in order.
type concatReader struct {
	files []createFile
	open  *os.File
	index int
}

func (r *concatReader) close() {
	if r.open != nil {
		r.open.Close()
		r.open = nil
	}
}

// readAt fills p from offset off of the concatenated data.
func (r *concatReader) readAt(p []byte, off int64) error {
	// The first file that ends after off; zero-length files end where
	// they start and are skipped.
	i := sort.Search(len(r.files), func(i int) bool {
		return r.files[i].offset+r.files[i].length > off
	})
	for len(p) > 0 {
		if i >= len(r.files) {
			return fmt.Errorf("offset %d: past the last file", off)
		}
		f := r.files[i]
		if f.length == 0 {
			i++
			continue
		}
		n := min(int64(len(p)), f.offset+f.length-off)
		if err := r.readFile(i, p[:n], off-f.offset); err != nil {
			return err
		}
		p, off, i = p[n:], off+n, i+1
	}
	return nil
}

func (r *concatReader) readFile(i int, p []byte, off int64) error {
	if r.open == nil || r.index != i {
		r.close()
		f, err := os.Open(r.files[i].osPath)
		if err != nil {
			return err
		}
		r.open, r.index = f, i
	}
	_, err := r.open.ReadAt(p, off)
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", r.files[i].osPath, errShortFile)
	}
	return err
}

// CreateSync makes a torrent like Create, hashing on the calling
// goroutine. It is for tests and tools that have no loop; it must not be
// called on the loop thread.
func CreateSync(opts CreateOptions) (*Torrent, []byte, error) {
	p, err := planCreate(opts)
	if err != nil {
		return nil, nil, err
	}
	hashes, err := hashPieces(p.files, p.total, p.pieceLength, 0, p.numPieces)
	if err != nil {
		return nil, nil, fmt.Errorf("create: %w", err)
	}
	return p.encode(hashes)
}
