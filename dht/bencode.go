package dht

import (
	"errors"
	"fmt"
	"strconv"
)

// A hand-written bencode scanner for KRPC, rather than a reflection
// decoder: every length a peer writes is checked against the bytes that
// are actually left before anything is sliced or allocated, nesting is
// capped, and fields are read straight into typed Go values with an error
// that names the key when the type is wrong.

// maxDepth bounds nesting. KRPC needs three levels (message, "a"/"r",
// "values"); unknown keys may hide deeper values, which are skipped, but a
// datagram of "llll…" must not recurse thousands of times.
const maxDepth = 16

var errBencode = errors.New("malformed bencode")

// scanner reads bencode from b, in place.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) peek() (byte, error) {
	if s.i >= len(s.b) {
		return 0, fmt.Errorf("%w: unexpected end at byte %d", errBencode, s.i)
	}
	return s.b[s.i], nil
}

// str reads a byte string. The result aliases the input.
func (s *scanner) str() ([]byte, error) {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		if s.i-start > 7 { // no datagram holds a string of 10 MB
			return nil, fmt.Errorf("%w: string length too long at byte %d", errBencode, start)
		}
	}
	if s.i == start || s.i >= len(s.b) || s.b[s.i] != ':' {
		return nil, fmt.Errorf("%w: want a string at byte %d", errBencode, start)
	}
	if s.i-start > 1 && s.b[start] == '0' {
		return nil, fmt.Errorf("%w: leading zero in string length at byte %d", errBencode, start)
	}
	n, _ := strconv.Atoi(string(s.b[start:s.i]))
	s.i++
	if n > len(s.b)-s.i {
		return nil, fmt.Errorf("%w: string of %d bytes at byte %d, %d left", errBencode, n, start, len(s.b)-s.i)
	}
	v := s.b[s.i : s.i+n]
	s.i += n
	return v, nil
}

// int reads an integer "i<digits>e" that fits an int64.
func (s *scanner) int() (int64, error) {
	start := s.i
	if c, err := s.peek(); err != nil || c != 'i' {
		return 0, fmt.Errorf("%w: want an integer at byte %d", errBencode, start)
	}
	s.i++
	end := s.i
	for end < len(s.b) && s.b[end] != 'e' {
		end++
	}
	if end >= len(s.b) {
		return 0, fmt.Errorf("%w: unterminated integer at byte %d", errBencode, start)
	}
	digits := string(s.b[s.i:end])
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || digits[0] == '+' || (len(digits) > 1 && (digits[0] == '0' || digits[:2] == "-0")) {
		return 0, fmt.Errorf("%w: bad integer %.20q at byte %d", errBencode, digits, start)
	}
	s.i = end + 1
	return n, nil
}

// dict calls fn for each key of a dictionary; fn must consume the value
// (read it or skip it).
func (s *scanner) dict(depth int, fn func(key []byte, depth int) error) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d", errBencode, maxDepth)
	}
	if c, err := s.peek(); err != nil || c != 'd' {
		return fmt.Errorf("%w: want a dictionary at byte %d", errBencode, s.i)
	}
	s.i++
	for {
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c == 'e' {
			s.i++
			return nil
		}
		key, err := s.str()
		if err != nil {
			return fmt.Errorf("dictionary key: %w", err)
		}
		if err := fn(key, depth+1); err != nil {
			return err
		}
	}
}

// list calls fn for each element of a list; fn must consume it.
func (s *scanner) list(depth int, fn func(depth int) error) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d", errBencode, maxDepth)
	}
	if c, err := s.peek(); err != nil || c != 'l' {
		return fmt.Errorf("%w: want a list at byte %d", errBencode, s.i)
	}
	s.i++
	for {
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c == 'e' {
			s.i++
			return nil
		}
		if err := fn(depth + 1); err != nil {
			return err
		}
	}
}

// skip consumes one value of any type.
func (s *scanner) skip(depth int) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch {
	case c == 'i':
		_, err = s.int()
	case c == 'l':
		err = s.list(depth, s.skip)
	case c == 'd':
		err = s.dict(depth, func(_ []byte, depth int) error { return s.skip(depth) })
	default:
		_, err = s.str()
	}
	return err
}

// Encoding: appenders, keys written in sorted order by the callers.

func appendStr(b []byte, s []byte) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

func appendKey(b []byte, key string) []byte {
	b = strconv.AppendInt(b, int64(len(key)), 10)
	b = append(b, ':')
	return append(b, key...)
}

func appendInt(b []byte, n int64) []byte {
	b = append(b, 'i')
	b = strconv.AppendInt(b, n, 10)
	return append(b, 'e')
}
