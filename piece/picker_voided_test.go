package piece

import (
	"slices"
	"testing"
)

// TestLateAndUnrequestedBlocks: the picker alone knows what each peer was
// asked for, so it tells a requested block from a late one (answered
// after a CHOKE or a CANCEL) and from one never asked of that peer.
func TestLateAndUnrequestedBlocks(t *testing.T) {
	p := newTestPicker(t, 32*kib, 32*kib, PickerOptions{}) // one piece: Pick has no choice
	mustBitfield(t, p, 1, allOf(1))
	mustBitfield(t, p, 2, allOf(1))
	asked := p.Pick(1, 2, nil)
	if len(asked) != 2 {
		t.Fatalf("Pick = %v, want a piece's two blocks", asked)
	}
	a0, a1 := asked[0], asked[1]
	type want struct{ wanted, late bool }
	step := func(name string, peer PeerID, b Block, w want) {
		t.Helper()
		got := p.BlockReceived(peer, b)
		if got.Wanted != w.wanted || got.Late != w.late {
			t.Errorf("%s: BlockReceived(%d, %v) = wanted %v, late %v; want %v, %v", name, peer, b, got.Wanted, got.Late, w.wanted, w.late)
		}
		checkInvariants(t, p)
	}
	step("asked of another peer", 2, a0, want{})
	step("not a block", 1, Block{a0.Piece, 1, a0.Length}, want{})
	if n := p.Requests(1); n != 2 {
		t.Fatalf("peer 1 has %d requests after refused blocks, want 2 (nothing taken)", n)
	}

	p.PeerChoked(1)
	step("voided by a choke", 1, a1, want{late: true})
	step("the same voided request, answered twice", 1, a1, want{})

	// Unchoked: both blocks asked again; a0 is also still voided once.
	if again := p.Pick(1, 2, nil); !slices.Equal(again, asked) {
		t.Fatalf("Pick after the choke = %v, want %v again", again, asked)
	}
	step("requested again", 1, a0, want{wanted: true})
	step("the voided copy", 1, a0, want{late: true})
	step("a third copy", 1, a0, want{})

	p.RequestCanceled(1, a1)
	step("after our CANCEL", 1, a1, want{late: true})
}

func TestCancelRequestsReturnsThemAll(t *testing.T) {
	p := newTestPicker(t, 64*kib, 64*kib, PickerOptions{})
	mustBitfield(t, p, 1, allOf(1))
	asked := p.Pick(1, 4, nil)
	got := p.CancelRequests(1, nil)
	slices.SortFunc(got, func(a, b Block) int { return a.Begin - b.Begin })
	if !slices.Equal(got, asked) || p.Requests(1) != 0 {
		t.Fatalf("CancelRequests = %v with %d left, want %v and none", got, p.Requests(1), asked)
	}
	if a := p.BlockReceived(1, asked[2]); !a.Late {
		t.Errorf("a cancelled block arriving: %+v, want late", a)
	}
	checkInvariants(t, p)
}

func TestVoidedForgetsTheOldestFirst(t *testing.T) {
	var v voided
	blk := func(i int) Block { return Block{Piece: i, Length: BlockSize} }
	for i := range maxVoided + 10 {
		v.add(blk(i))
	}
	if len(v.blocks) > maxVoided {
		t.Fatalf("%d voided requests kept, want at most %d", len(v.blocks), maxVoided)
	}
	if v.take(blk(0)) {
		t.Error("the oldest voided request is still remembered")
	}
	if !v.take(blk(maxVoided + 9)) {
		t.Error("the newest voided request was forgotten")
	}
}
