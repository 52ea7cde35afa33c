package webseed

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

// File is one file of a torrent as a web seed serves it.
type File struct {
	// URL is where the file is; "" for a padding file, which is never
	// fetched.
	URL string
	// Length and Offset place the file in the torrent's data.
	Length, Offset int64
	// Padding marks a BEP 47 padding file: zeros, not asked for.
	Padding bool
}

// Files maps a torrent's files onto the web seed at base (BEP 19). A
// single-file torrent is base itself, or base + name when base ends in
// '/'; a multi-file torrent's file is base + name + '/' + its path, with
// a '/' added after base if missing, each segment percent-encoded.
func Files(base string, m *metainfo.Torrent) ([]File, error) {
	if _, err := parseURL(base); err != nil {
		return nil, err
	}
	files := make([]File, len(m.Files))
	for i, f := range m.Files {
		files[i] = File{Length: f.Length, Offset: f.Offset, Padding: f.Padding}
		switch {
		case f.Padding:
		case !m.MultiFile && !strings.HasSuffix(base, "/"):
			files[i].URL = base
		case !m.MultiFile:
			files[i].URL = base + url.PathEscape(m.Name)
		default:
			var b strings.Builder
			b.WriteString(base)
			if !strings.HasSuffix(base, "/") {
				b.WriteByte('/')
			}
			b.WriteString(url.PathEscape(m.Name))
			for _, seg := range f.Path {
				b.WriteByte('/')
				b.WriteString(url.PathEscape(seg))
			}
			files[i].URL = b.String()
		}
	}
	return files, nil
}

// Slice is the part of one file that a byte range of the torrent covers.
type Slice struct {
	File    int   // index into the files
	FileOff int64 // where in the file
	BufOff  int64 // where in the range
	Length  int64
}

// Slices appends to dst the per-file slices of the torrent range [off,
// off+n), in order, skipping empty files; one request each (padding files
// are the caller's to zero instead).
func Slices(files []File, off, n int64, dst []Slice) []Slice {
	i := sort.Search(len(files), func(i int) bool { return files[i].Offset+files[i].Length > off })
	for done := int64(0); i < len(files) && done < n; i++ {
		f := &files[i]
		if f.Length == 0 {
			continue
		}
		start := off + done - f.Offset
		k := min(f.Length-start, n-done)
		dst = append(dst, Slice{File: i, FileOff: start, BufOff: done, Length: k})
		done += k
	}
	return dst
}

// parseURL parses an http:// or https:// URL, tolerating characters that should
// have been percent-encoded.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(escapeLoose(raw))
	if err != nil {
		return nil, fmt.Errorf("web seed URL %q: %w", clip(raw), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: %q", ErrScheme, clip(raw))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("web seed URL %q: no host", clip(raw))
	}
	return u, nil
}

// resolveLocation resolves a redirect's Location, absolute or relative,
// against the URL that was asked.
func resolveLocation(from *url.URL, loc string) (*url.URL, error) {
	u, err := from.Parse(escapeLoose(loc))
	if err != nil {
		return nil, fmt.Errorf("%w: redirect to %q: %w", ErrBadResponse, clip(loc), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%w: redirect to %q", ErrScheme, clip(loc))
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// escapeLoose percent-encodes the bytes no URL may hold as they are
// (controls, space, non-ASCII, and a few delimiters), leaving everything
// else, '%' escapes included, as it was. Servers send such Locations, and
// users paste such URLs.
func escapeLoose(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > ' ' && c < 0x7f && c != '"' && c != '<' && c != '>' && c != '\\' && c != '^' && c != '`' && c != '{' && c != '|' && c != '}' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
