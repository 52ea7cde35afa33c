package piece

import (
	"slices"
	"testing"
)

// TestRequestRejected: a REJECT ends an outstanding request (the block goes
// back to the pool), answers a cancelled one (BEP 6 peers reject what we
// cancel), and answers nothing otherwise.
func TestRequestRejected(t *testing.T) {
	p := newTestPicker(t, 32*kib, 32*kib, PickerOptions{})
	mustBitfield(t, p, 1, allOf(1))
	mustBitfield(t, p, 2, allOf(1))
	asked := p.Pick(1, 2, nil)
	a0, a1 := asked[0], asked[1]
	steps := []struct {
		name string
		b    Block
		want bool
	}{
		{"outstanding", a0, true},
		{"the same again", a0, false},
		{"never asked of it", Block{a0.Piece, 1, a0.Length}, false},
	}
	for _, s := range steps {
		if got := p.RequestRejected(1, s.b); got != s.want {
			t.Errorf("%s: RequestRejected(%v) = %v, want %v", s.name, s.b, got, s.want)
		}
		checkInvariants(t, p)
	}
	p.RequestCanceled(1, a1)
	if !p.RequestRejected(1, a1) {
		t.Error("the REJECT of a block we cancelled: want it to answer our request")
	}
	// Both blocks are free again: another peer gets them.
	if got := p.Pick(2, 4, nil); !slices.Equal(got, asked) {
		t.Fatalf("Pick(2) = %v, want the rejected blocks %v", got, asked)
	}
	checkInvariants(t, p)
}

// TestPickFromAllowedFast: a peer that chokes us is asked only for the
// pieces it allows, it has, and we want.
func TestPickFromAllowedFast(t *testing.T) {
	p := newTestPicker(t, 16*kib, 8*16*kib, PickerOptions{}) // 8 one-block pieces
	has := allOf(8)
	has.Clear(5)
	mustBitfield(t, p, 1, has)
	p.PieceVerified(2) // we have it already
	got := p.PickFrom(1, 10, []int{2, 5, 6, -1, 99, 3}, nil)
	var pieces []int
	for _, b := range got {
		pieces = append(pieces, b.Piece)
	}
	if !slices.Equal(pieces, []int{6, 3}) {
		t.Fatalf("PickFrom = pieces %v, want [6 3] (2 had, 5 not theirs, -1 and 99 out of range)", pieces)
	}
	checkInvariants(t, p)
	if more := p.PickFrom(1, 10, []int{6, 3}, nil); len(more) != 0 {
		t.Fatalf("PickFrom again = %v, want nothing: both blocks are out", more)
	}
}
