package piece

import (
	"bytes"
	"errors"
	"testing"
)

func TestBitfieldBytes(t *testing.T) {
	tests := []struct {
		n    int
		set  []int
		want []byte
	}{
		{0, nil, []byte{}},
		{1, []int{0}, []byte{0x80}},
		{8, []int{0, 7}, []byte{0x81}},
		{9, []int{8}, []byte{0x00, 0x80}},
		{70, []int{0, 63, 64, 69}, []byte{0x80, 0, 0, 0, 0, 0, 0, 0x01, 0x84}},
	}
	for _, tt := range tests {
		bf := NewBitfield(tt.n)
		for _, i := range tt.set {
			bf.Set(i)
		}
		if got := bf.Bytes(); !bytes.Equal(got, tt.want) {
			t.Errorf("n=%d set=%v: Bytes() = %x, want %x", tt.n, tt.set, got, tt.want)
		}
		if got := bf.Count(); got != len(tt.set) {
			t.Errorf("n=%d: Count() = %d, want %d", tt.n, got, len(tt.set))
		}
		back, err := FromBytes(tt.want, tt.n)
		if err != nil {
			t.Fatalf("n=%d: FromBytes: %v", tt.n, err)
		}
		if back.String() != bf.String() || back.Count() != bf.Count() {
			t.Errorf("n=%d: round trip got %s (%d), want %s (%d)", tt.n, back, back.Count(), bf, bf.Count())
		}
	}
}

func TestFromBytesErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		n    int
	}{
		{"too short", []byte{0xff}, 9},
		{"too long", []byte{0xff, 0}, 8},
		{"spare bit", []byte{0x01}, 7},
		{"spare bit in second word", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0x40}, 65},
		{"negative", nil, -1},
	}
	for _, tt := range tests {
		if _, err := FromBytes(tt.b, tt.n); !errors.Is(err, ErrBitfield) {
			t.Errorf("%s: FromBytes(%x, %d) error = %v, want ErrBitfield", tt.name, tt.b, tt.n, err)
		}
	}
}

func TestBitfieldOps(t *testing.T) {
	bf := NewBitfield(130)
	for _, i := range []int{-1, 130, 1 << 40} {
		if bf.Has(i) {
			t.Errorf("Has(%d) = true for an index out of range", i)
		}
	}
	bf.Set(5)
	bf.Set(5)
	bf.Set(129)
	if got := bf.Count(); got != 2 {
		t.Errorf("Count() = %d, want 2", got)
	}
	if got := bf.NextSet(6); got != 129 {
		t.Errorf("NextSet(6) = %d, want 129", got)
	}
	if got := bf.NextSet(0); got != 5 {
		t.Errorf("NextSet(0) = %d, want 5", got)
	}
	bf.Clear(129)
	if got := bf.NextSet(6); got != -1 {
		t.Errorf("NextSet(6) after Clear = %d, want -1", got)
	}
	c := bf.Clone()
	c.SetAll()
	if !c.Full() || c.Count() != 130 || bf.Count() != 1 {
		t.Errorf("SetAll on clone: clone full=%v count=%d, original count=%d", c.Full(), c.Count(), bf.Count())
	}
	if _, err := FromBytes(c.Bytes(), 130); err != nil {
		t.Errorf("SetAll left spare bits set: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Set(130) did not panic")
		}
	}()
	bf.Set(130)
}

func FuzzBitfield(f *testing.F) {
	f.Add([]byte{0x80}, 1)
	f.Add([]byte{0xff, 0xc0}, 10)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n > 1<<16 {
			return
		}
		bf, err := FromBytes(b, n)
		if err != nil {
			return
		}
		if got := bf.Bytes(); !bytes.Equal(got, b) {
			t.Fatalf("round trip: got %x, want %x", got, b)
		}
	})
}
