package metainfo

import (
	"bytes"
	"fmt"
	"io"
)

// MaxNesting bounds how deeply lists and dicts may nest in a .torrent.
// Real metainfo nests five levels (root, info, files, one file, its path);
// BEP 52 file trees nest one level per directory, so leave room for those.
const MaxNesting = 64

// scanFrame is one open list or dict during scanMetainfo.
type scanFrame struct {
	dict    bool // a dict, else a list
	wantKey bool // dict only: the next value is a key
	start   int  // offset of the 'd' or 'l'
	isInfo  bool // this is the top-level "info" value
	lastKey []byte
	hasKey  bool // lastKey is set
}

// bencodeScanner walks bencode without recursion, so hostile nesting cannot
// exhaust the stack. It only checks well-formedness; decoding into Go
// values is left to the bencode package once the input is known good.
type bencodeScanner struct {
	data []byte
	pos  int
}

func (s *bencodeScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrSyntax, s.pos, fmt.Sprintf(format, args...))
}

func (s *bencodeScanner) truncated() error {
	return fmt.Errorf("%w at offset %d: %w", ErrSyntax, s.pos, io.ErrUnexpectedEOF)
}

// scanMetainfo checks that data is exactly one well-formed bencode dict,
// nested at most MaxNesting deep, and returns the bytes of its top-level
// "info" value exactly as they stand (nil if there is none). The info-hash
// is taken over these bytes, so they must never be re-encoded.
func scanMetainfo(data []byte) (info []byte, err error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxSize)
	}
	if len(data) == 0 || data[0] != 'd' {
		return nil, fmt.Errorf("%w: metainfo is not a bencode dict", ErrSyntax)
	}
	s := bencodeScanner{data: data}
	stack := make([]scanFrame, 0, 8)
	nextIsInfo := false
	for {
		if s.pos >= len(data) {
			return nil, s.truncated()
		}
		start := s.pos
		var key []byte // set when the value just scanned is a string
		isInfo := false
		switch c := data[s.pos]; {
		case c == 'e':
			if len(stack) == 0 {
				return nil, s.errorf("unexpected 'e'")
			}
			top := stack[len(stack)-1]
			if top.dict && !top.wantKey {
				return nil, s.errorf("dict key without a value")
			}
			s.pos++
			stack = stack[:len(stack)-1]
			start, isInfo = top.start, top.isInfo
		case len(stack) > 0 && stack[len(stack)-1].dict && stack[len(stack)-1].wantKey && (c < '0' || c > '9'):
			return nil, s.errorf("dict key is not a string")
		case c == 'd' || c == 'l':
			if len(stack) >= MaxNesting {
				return nil, fmt.Errorf("%w: more than %d levels at offset %d", ErrTooDeep, MaxNesting, s.pos)
			}
			stack = append(stack, scanFrame{dict: c == 'd', wantKey: true, start: s.pos, isInfo: nextIsInfo})
			nextIsInfo = false
			s.pos++
			continue
		case c == 'i':
			if err := s.scanInt(); err != nil {
				return nil, err
			}
		case c >= '0' && c <= '9':
			if key, err = s.scanString(); err != nil {
				return nil, err
			}
		default:
			return nil, s.errorf("unknown value type %q", c)
		}
		// A complete value spans data[start:s.pos].
		if nextIsInfo {
			return nil, fmt.Errorf("%w: info is not a dict", ErrBadType)
		}
		if isInfo {
			info = data[start:s.pos]
		}
		if len(stack) == 0 {
			if s.pos != len(data) {
				return nil, s.errorf("%d trailing bytes after the metainfo dict", len(data)-s.pos)
			}
			return info, nil
		}
		if top := &stack[len(stack)-1]; top.dict {
			if top.wantKey {
				if err := top.checkKeyOrder(key, start); err != nil {
					return nil, err
				}
				nextIsInfo = len(stack) == 1 && string(key) == "info"
			}
			top.wantKey = !top.wantKey
		}
	}
}

// checkKeyOrder enforces BEP 3's sorted, hence unique, dict keys. Besides
// following the spec, this means a duplicate key can never make two
// readers (ours and a peer's) see different values, and the bencode
// package, which checks order only in dicts it skips, sees one rule.
func (f *scanFrame) checkKeyOrder(key []byte, offset int) error {
	if f.hasKey && bytes.Compare(key, f.lastKey) <= 0 {
		what := "unsorted"
		if bytes.Equal(key, f.lastKey) {
			what = "duplicate"
		}
		return fmt.Errorf("%w at offset %d: %s dict key %q after %q", ErrSyntax, offset, what, key, f.lastKey)
	}
	f.lastKey, f.hasKey = key, true
	return nil
}

// scanInt checks i<digits>e with no leading zeros and no "-0".
func (s *bencodeScanner) scanInt() error {
	s.pos++ // 'i'
	neg := s.pos < len(s.data) && s.data[s.pos] == '-'
	if neg {
		s.pos++
	}
	n, err := s.scanDigits()
	if err != nil {
		return err
	}
	if neg && n == 0 {
		return s.errorf("negative zero")
	}
	if s.pos >= len(s.data) {
		return s.truncated()
	}
	if s.data[s.pos] != 'e' {
		return s.errorf("integer ends with %q, want 'e'", s.data[s.pos])
	}
	s.pos++
	return nil
}

// scanDigits reads a non-empty run of decimal digits without a leading
// zero and returns its value, saturated far above any valid length.
func (s *bencodeScanner) scanDigits() (int64, error) {
	begin := s.pos
	var n int64
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		if n < 1<<40 {
			n = n*10 + int64(s.data[s.pos]-'0')
		}
		s.pos++
	}
	switch {
	case s.pos == begin && s.pos >= len(s.data):
		return 0, s.truncated()
	case s.pos == begin:
		return 0, s.errorf("expected a digit, got %q", s.data[s.pos])
	case s.data[begin] == '0' && s.pos-begin > 1:
		return 0, s.errorf("leading zero")
	}
	return n, nil
}

// scanString checks <length>:<bytes> and returns the bytes.
func (s *bencodeScanner) scanString() ([]byte, error) {
	n, err := s.scanDigits()
	if err != nil {
		return nil, err
	}
	if s.pos >= len(s.data) {
		return nil, s.truncated()
	}
	if s.data[s.pos] != ':' {
		return nil, s.errorf("string length ends with %q, want ':'", s.data[s.pos])
	}
	s.pos++
	if n > int64(len(s.data)-s.pos) {
		return nil, fmt.Errorf("%w: string of %d bytes at offset %d runs past the end: %w",
			ErrSyntax, n, s.pos, io.ErrUnexpectedEOF)
	}
	b := s.data[s.pos : s.pos+int(n)]
	s.pos += int(n)
	return b, nil
}
