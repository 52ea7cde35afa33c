package piece

import (
	"slices"
	"testing"
)

const webSeed PeerID = -1

func TestPickPieceWholePieceNotGivenToPeers(t *testing.T) {
	p := newTestPicker(t, 32*kib, 4*32*kib, PickerOptions{RandomFirst: -1})
	mustBitfield(t, p, webSeed, allOf(4))
	mustBitfield(t, p, 1, allOf(4))
	i := p.PickPiece(webSeed)
	if i < 0 {
		t.Fatal("PickPiece found nothing")
	}
	if got := p.Requests(webSeed); got != 2 {
		t.Fatalf("web seed has %d requests, want the piece's 2 blocks", got)
	}
	got := p.Pick(1, 6, nil) // 6: more would be endgame duplicates
	if slices.Contains(pieces(got), i) {
		t.Fatalf("peer was given blocks of piece %d, which the web seed fetches: %v", i, got)
	}
	if len(got) != 6 {
		t.Fatalf("peer got %d blocks, want the other 3 pieces' 6", len(got))
	}
	blocks := p.PieceBlocks(i, nil)
	want := []Block{{i, 0, 16 * kib}, {i, 16 * kib, 16 * kib}}
	if !slices.Equal(blocks, want) {
		t.Fatalf("PieceBlocks = %v, want %v", blocks, want)
	}
	if a := p.BlockReceived(webSeed, blocks[0]); !a.Wanted || a.PieceDone {
		t.Fatalf("first block: %+v", a)
	}
	if a := p.BlockReceived(webSeed, blocks[1]); !a.Wanted || !a.PieceDone {
		t.Fatalf("last block: %+v", a)
	}
	p.PieceVerified(i)
	checkInvariants(t, p)
}

func TestPickPieceRespectsActiveCapAndUnknownPeer(t *testing.T) {
	p := newTestPicker(t, 16*kib, 3*16*kib, PickerOptions{MaxActivePieces: 1})
	if got := p.PickPiece(webSeed); got != -1 {
		t.Fatalf("unregistered source got piece %d", got)
	}
	mustBitfield(t, p, webSeed, allOf(3))
	if p.PickPiece(webSeed) < 0 {
		t.Fatal("nothing picked")
	}
	if got := p.PickPiece(webSeed); got != -1 {
		t.Fatalf("second piece %d started past MaxActivePieces 1", got)
	}
}

// A failed fetch gives the piece back: it can be picked again, by a peer
// or the web seed.
func TestPickPieceGivenBackAfterFailedFetch(t *testing.T) {
	p := newTestPicker(t, 16*kib, 16*kib, PickerOptions{})
	mustBitfield(t, p, webSeed, allOf(1))
	mustBitfield(t, p, 1, allOf(1))
	if p.PickPiece(webSeed) != 0 {
		t.Fatal("piece 0 not picked")
	}
	p.PeerChoked(webSeed)
	if p.ActivePieces() != 0 {
		t.Fatalf("%d pieces still active after the fetch failed", p.ActivePieces())
	}
	if got := p.Pick(1, 10, nil); len(got) != 1 {
		t.Fatalf("peer got %v after the web seed gave the piece back", got)
	}
	checkInvariants(t, p)
}

// In endgame a peer may duplicate the web seed's blocks; the first copy
// wins and the web seed's later copy is Late.
func TestPickPieceEndgameDuplicateByPeer(t *testing.T) {
	p := newTestPicker(t, 16*kib, 16*kib, PickerOptions{})
	mustBitfield(t, p, webSeed, allOf(1))
	mustBitfield(t, p, 1, allOf(1))
	p.PickPiece(webSeed)
	got := p.Pick(1, 10, nil)
	if len(got) != 1 {
		t.Fatalf("endgame: peer got %v, want the web seed's block duplicated", got)
	}
	a := p.BlockReceived(1, got[0])
	if !a.Wanted || !a.PieceDone || !slices.Equal(a.Cancel, []PeerID{webSeed}) {
		t.Fatalf("peer's copy: %+v", a)
	}
	if a := p.BlockReceived(webSeed, got[0]); a.Wanted || !a.Late {
		t.Fatalf("web seed's copy: %+v, want late", a)
	}
}
