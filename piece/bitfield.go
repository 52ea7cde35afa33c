package piece

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Bitfield is a fixed-size set of piece indexes, laid out as the BEP 3
// "bitfield" message: piece 0 is the high bit of the first byte.
//
// Bits are stored in uint64 words in the same most-significant-first order,
// so Bytes is a big-endian dump of the words and scans can skip 64 pieces
// at a time. The zero Bitfield is empty and has length 0.
type Bitfield struct {
	n     int
	count int
	words []uint64
}

// ErrBitfield is wrapped by the errors FromBytes returns.
var ErrBitfield = errors.New("invalid bitfield")

// NewBitfield returns an empty bitfield for n pieces.
func NewBitfield(n int) *Bitfield {
	if n < 0 {
		n = 0
	}
	return &Bitfield{n: n, words: make([]uint64, (n+63)/64)}
}

// FromBytes decodes a BEP 3 bitfield payload for n pieces. The payload must
// be exactly ceil(n/8) bytes and its spare bits, past piece n-1, must be
// zero: the spec says so, and a peer that sets them is broken or lying.
func FromBytes(b []byte, n int) (*Bitfield, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: %d pieces", ErrBitfield, n)
	}
	if want := (n + 7) / 8; len(b) != want {
		return nil, fmt.Errorf("%w: %d bytes for %d pieces, want %d", ErrBitfield, len(b), n, want)
	}
	bf := NewBitfield(n)
	for i := range bf.words {
		var buf [8]byte
		copy(buf[:], b[i*8:])
		bf.words[i] = binary.BigEndian.Uint64(buf[:])
	}
	if spare := bf.spareMask(); len(bf.words) > 0 && bf.words[len(bf.words)-1]&spare != 0 {
		return nil, fmt.Errorf("%w: spare bits set past piece %d", ErrBitfield, n-1)
	}
	bf.count = bf.popcount()
	return bf, nil
}

// spareMask has the bits of the last word that lie past piece n-1.
func (b *Bitfield) spareMask() uint64 {
	if r := b.n % 64; r != 0 {
		return ^uint64(0) >> r
	}
	return 0
}

func (b *Bitfield) popcount() int {
	c := 0
	for _, w := range b.words {
		c += bits.OnesCount64(w)
	}
	return c
}

func mask(i int) uint64 { return 1 << (63 - uint(i)%64) }

// Len is the number of pieces the bitfield covers.
func (b *Bitfield) Len() int { return b.n }

// Count is the number of pieces set.
func (b *Bitfield) Count() int { return b.count }

// Full reports whether every piece is set.
func (b *Bitfield) Full() bool { return b.count == b.n }

// Has reports whether piece i is set; an index out of range is never set,
// so callers can ask with untrusted indexes.
func (b *Bitfield) Has(i int) bool {
	return i >= 0 && i < b.n && b.words[i/64]&mask(i) != 0
}

// Set adds piece i. It panics if i is out of range, like a slice index:
// indexes from the network must be checked with Has's range first.
func (b *Bitfield) Set(i int) {
	b.check(i)
	if w := &b.words[i/64]; *w&mask(i) == 0 {
		*w |= mask(i)
		b.count++
	}
}

// Clear removes piece i. It panics if i is out of range.
func (b *Bitfield) Clear(i int) {
	b.check(i)
	if w := &b.words[i/64]; *w&mask(i) != 0 {
		*w &^= mask(i)
		b.count--
	}
}

// SetAll sets every piece (BEP 6 "have all").
func (b *Bitfield) SetAll() {
	for i := range b.words {
		b.words[i] = ^uint64(0)
	}
	if len(b.words) > 0 {
		b.words[len(b.words)-1] &^= b.spareMask()
	}
	b.count = b.n
}

func (b *Bitfield) check(i int) {
	if i < 0 || i >= b.n {
		panic(fmt.Sprintf("piece: bitfield index %d out of range [0, %d)", i, b.n))
	}
}

// Bytes encodes the bitfield as a BEP 3 payload of ceil(n/8) bytes with
// the spare bits zero.
func (b *Bitfield) Bytes() []byte {
	out := make([]byte, len(b.words)*8)
	for i, w := range b.words {
		binary.BigEndian.PutUint64(out[i*8:], w)
	}
	return out[:(b.n+7)/8]
}

// Clone returns an independent copy.
func (b *Bitfield) Clone() *Bitfield {
	c := *b
	c.words = append([]uint64(nil), b.words...)
	return &c
}

// NextSet returns the first set piece at or after i, or -1 if there is none.
func (b *Bitfield) NextSet(i int) int {
	if i < 0 {
		i = 0
	}
	if i >= b.n {
		return -1
	}
	wi := i / 64
	w := b.words[wi] & (^uint64(0) >> (uint(i) % 64))
	for {
		if w != 0 {
			return wi*64 + bits.LeadingZeros64(w)
		}
		wi++
		if wi >= len(b.words) {
			return -1
		}
		w = b.words[wi]
	}
}

// String shows the bitfield as 0s and 1s, piece 0 first, for tests and logs.
func (b *Bitfield) String() string {
	out := make([]byte, b.n)
	for i := range out {
		out[i] = '0'
		if b.Has(i) {
			out[i] = '1'
		}
	}
	return string(out)
}
