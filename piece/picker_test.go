package piece

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

const kib = 1024

func newTestPicker(t testing.TB, pieceLen, total int64, opts PickerOptions) *Picker {
	t.Helper()
	p, err := NewPicker(pieceLen, total, rand.New(rand.NewPCG(1, 2)), opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func bitsOf(n int, set ...int) *Bitfield {
	bf := NewBitfield(n)
	for _, i := range set {
		bf.Set(i)
	}
	return bf
}

func allOf(n int) *Bitfield {
	bf := NewBitfield(n)
	bf.SetAll()
	return bf
}

func mustBitfield(t testing.TB, p *Picker, peer PeerID, bf *Bitfield) {
	t.Helper()
	if err := p.PeerBitfield(peer, bf); err != nil {
		t.Fatal(err)
	}
}

// pieces returns the piece of each block, in order.
func pieces(bs []Block) []int {
	var out []int
	for _, b := range bs {
		out = append(out, b.Piece)
	}
	return out
}

// receiveAll delivers every block of bs from peer.
func receiveAll(p *Picker, peer PeerID, bs []Block) {
	for _, b := range bs {
		p.BlockReceived(peer, b)
	}
}

func TestPickRarestFirst(t *testing.T) {
	p := newTestPicker(t, 16*kib, 4*16*kib, PickerOptions{RandomFirst: -1})
	mustBitfield(t, p, 1, allOf(4))
	mustBitfield(t, p, 2, bitsOf(4, 0, 1, 2))
	mustBitfield(t, p, 3, bitsOf(4, 0, 1))
	// Availability: 0:3 1:3 2:2 3:1.
	if got := pieces(p.Pick(1, 1, nil)); !slices.Equal(got, []int{3}) {
		t.Fatalf("first pick = %v, want [3] (rarest)", got)
	}
	if got := pieces(p.Pick(1, 1, nil)); !slices.Equal(got, []int{2}) {
		t.Fatalf("second pick = %v, want [2]", got)
	}
	if err := p.PeerHave(2, 3); err != nil {
		t.Fatal(err)
	}
	got := pieces(p.Pick(1, 2, nil))
	slices.Sort(got)
	if !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("last picks = %v, want 0 and 1", got)
	}
	checkInvariants(t, p)
}

func TestPickOnlyWhatPeerHas(t *testing.T) {
	p := newTestPicker(t, 32*kib, 8*32*kib, PickerOptions{})
	if got := p.Pick(9, 10, nil); len(got) != 0 {
		t.Errorf("Pick for a peer that sent nothing = %v, want none", got)
	}
	mustBitfield(t, p, 1, bitsOf(8, 5))
	got := p.Pick(1, 10, nil)
	want := []Block{{5, 0, 16 * kib}, {5, 16 * kib, 16 * kib}}
	if !slices.Equal(got, want) {
		t.Errorf("Pick = %v, want %v", got, want)
	}
	if more := p.Pick(1, 10, nil); len(more) != 0 {
		t.Errorf("second Pick = %v, want none (never the same block twice)", more)
	}
}

func TestPickStartedFirst(t *testing.T) {
	p := newTestPicker(t, 64*kib, 4*64*kib, PickerOptions{RandomFirst: -1})
	mustBitfield(t, p, 1, allOf(4))
	mustBitfield(t, p, 2, allOf(4))
	mustBitfield(t, p, 3, bitsOf(4, 0))
	first := p.Pick(3, 2, nil) // piece 0, the only one peer 3 has
	if got := pieces(first); !slices.Equal(got, []int{0, 0}) {
		t.Fatalf("peer 3 picked %v, want piece 0 twice", got)
	}
	// Piece 0 is the most available now, yet started: it goes first.
	got := p.Pick(1, 3, nil)
	want := []Block{{0, 32 * kib, 16 * kib}, {0, 48 * kib, 16 * kib}}
	if !slices.Equal(got[:2], want) || got[2].Piece == 0 {
		t.Errorf("peer 1 picked %v, want %v then a new piece", got, want)
	}
	checkInvariants(t, p)
}

func TestPickLastBlockShorter(t *testing.T) {
	p := newTestPicker(t, 32*kib, 32*kib+20000, PickerOptions{})
	mustBitfield(t, p, 1, bitsOf(2, 1))
	got := p.Pick(1, 5, nil)
	want := []Block{{1, 0, 16 * kib}, {1, 16 * kib, 20000 - 16*kib}}
	if !slices.Equal(got, want) {
		t.Errorf("Pick = %v, want %v", got, want)
	}
}

func TestEndgame(t *testing.T) {
	p := newTestPicker(t, 32*kib, 32*kib, PickerOptions{})
	mustBitfield(t, p, 1, allOf(1))
	mustBitfield(t, p, 2, allOf(1))
	b0, b1 := Block{0, 0, 16 * kib}, Block{0, 16 * kib, 16 * kib}
	if got := p.Pick(1, 5, nil); !slices.Equal(got, []Block{b0, b1}) {
		t.Fatalf("peer 1 picked %v, want both blocks", got)
	}
	if !p.Endgame() {
		t.Fatal("Endgame() = false with every block requested")
	}
	if got := p.Pick(2, 5, nil); !slices.Equal(got, []Block{b0, b1}) {
		t.Fatalf("peer 2 in endgame picked %v, want both blocks again", got)
	}
	if got := p.Pick(1, 5, nil); len(got) != 0 {
		t.Fatalf("peer 1 picked %v again, want nothing twice from one peer", got)
	}
	steps := []struct {
		peer PeerID
		b    Block
		want Arrival
	}{
		{2, b0, Arrival{Wanted: true, Cancel: []PeerID{1}}},
		{1, b0, Arrival{Late: true}}, // arrived despite the CANCEL
		{1, b1, Arrival{Wanted: true, PieceDone: true, Cancel: []PeerID{2}}},
	}
	for i, s := range steps {
		got := p.BlockReceived(s.peer, s.b)
		if got.Wanted != s.want.Wanted || got.Late != s.want.Late || got.PieceDone != s.want.PieceDone || !slices.Equal(got.Cancel, s.want.Cancel) {
			t.Errorf("step %d: BlockReceived(%d, %v) = %+v, want %+v", i, s.peer, s.b, got, s.want)
		}
	}
	if p.Requests(1) != 0 || p.Requests(2) != 0 {
		t.Errorf("requests left: peer 1 %d, peer 2 %d; want 0", p.Requests(1), p.Requests(2))
	}
	p.PieceVerified(0)
	if !p.Complete() || !p.Have(0) {
		t.Errorf("Complete() = %v, Have(0) = %v after verifying the only piece", p.Complete(), p.Have(0))
	}
	checkInvariants(t, p)
}

func TestPieceFailedRepicks(t *testing.T) {
	p := newTestPicker(t, 32*kib, 2*32*kib, PickerOptions{})
	mustBitfield(t, p, 1, bitsOf(2, 1))
	first := p.Pick(1, 5, nil)
	receiveAll(p, 1, first)
	if got := p.Pick(1, 5, nil); len(got) != 0 {
		t.Fatalf("Pick while the piece is being hashed = %v, want none", got)
	}
	p.PieceFailed(1)
	if got := p.Pick(1, 5, nil); !slices.Equal(got, first) {
		t.Errorf("Pick after PieceFailed = %v, want %v again", got, first)
	}
	checkInvariants(t, p)
}

func TestChokeReturnsBlocks(t *testing.T) {
	p := newTestPicker(t, 64*kib, 64*kib, PickerOptions{})
	mustBitfield(t, p, 1, allOf(1))
	mustBitfield(t, p, 2, allOf(1))
	got := p.Pick(1, 3, nil)
	p.BlockReceived(1, got[0])
	p.PeerChoked(1)
	if n := p.Requests(1); n != 0 {
		t.Errorf("peer 1 has %d requests after choke, want 0", n)
	}
	want := []Block{{0, 16 * kib, 16 * kib}, {0, 32 * kib, 16 * kib}, {0, 48 * kib, 16 * kib}}
	if got := p.Pick(2, 5, nil); !slices.Equal(got, want) {
		t.Errorf("peer 2 picked %v, want %v", got, want)
	}
	checkInvariants(t, p)

	// A piece with no data left and no requests is no longer in progress.
	p.PeerGone(2)
	if p.ActivePieces() != 1 {
		t.Errorf("ActivePieces() = %d, want 1 (piece 0 holds a block)", p.ActivePieces())
	}
	if p.Availability(0) != 1 {
		t.Errorf("Availability(0) = %d after PeerGone, want 1", p.Availability(0))
	}
	checkInvariants(t, p)
}

func TestRequestCanceledAbandonsEmptyPiece(t *testing.T) {
	p := newTestPicker(t, 32*kib, 32*kib, PickerOptions{MaxActivePieces: 1})
	mustBitfield(t, p, 1, allOf(1))
	got := p.Pick(1, 2, nil)
	for _, b := range got {
		p.RequestCanceled(1, b)
	}
	if p.ActivePieces() != 0 {
		t.Errorf("ActivePieces() = %d after every request was rejected, want 0", p.ActivePieces())
	}
	checkInvariants(t, p)
}

func TestSkipFiles(t *testing.T) {
	// Pieces of 32 KiB: a=[0,40K) b=[40K,100K) c=[100K,128K).
	l := Layout{PieceLength: 32 * kib, Length: 128 * kib, Files: files("a", 40*kib, "b", 60*kib, "c", 28*kib)}
	p := newTestPicker(t, l.PieceLength, l.Length, PickerOptions{Wanted: l.WantedPieces([]bool{false, true, false})})
	mustBitfield(t, p, 1, allOf(4))
	var got []int
	for range 10 {
		bs := p.Pick(1, 2, nil)
		if len(bs) == 0 {
			break
		}
		receiveAll(p, 1, bs)
		got = append(got, bs[0].Piece)
		p.PieceVerified(bs[0].Piece)
	}
	slices.Sort(got)
	// a: pieces 0, 1 (1 straddles into b); c: piece 3 (straddles b too).
	if want := []int{0, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("downloaded pieces %v, want %v", got, want)
	}
	if !p.Complete() {
		t.Error("Complete() = false with every wanted piece verified")
	}
	if err := p.SetWanted(allOf(4)); err != nil {
		t.Fatal(err)
	}
	if p.Complete() {
		t.Error("Complete() = true after wanting piece 2 too")
	}
	if bs := p.Pick(1, 2, nil); len(bs) == 0 || bs[0].Piece != 2 {
		t.Errorf("Pick after SetWanted = %v, want piece 2", bs)
	}
	checkInvariants(t, p)
}

func TestSequential(t *testing.T) {
	p := newTestPicker(t, 16*kib, 200*16*kib, PickerOptions{})
	p.SetSequential(true)
	mustBitfield(t, p, 1, allOf(200))
	bf := allOf(200)
	bf.Clear(3)
	mustBitfield(t, p, 2, bf)
	if got, want := pieces(p.Pick(2, 4, nil)), []int{0, 1, 2, 4}; !slices.Equal(got, want) {
		t.Errorf("peer 2 picked %v, want %v", got, want)
	}
	if got, want := pieces(p.Pick(1, 3, nil)), []int{3, 5, 6}; !slices.Equal(got, want) {
		t.Errorf("peer 1 picked %v, want %v", got, want)
	}
	checkInvariants(t, p)
}

func TestMaxActivePieces(t *testing.T) {
	p := newTestPicker(t, 32*kib, 10*32*kib, PickerOptions{MaxActivePieces: 2})
	mustBitfield(t, p, 1, allOf(10))
	got := p.Pick(1, 100, nil)
	if len(got) != 4 || p.ActivePieces() != 2 {
		t.Errorf("Pick with cap 2 gave %d blocks in %d pieces, want 4 in 2", len(got), p.ActivePieces())
	}
	receiveAll(p, 1, got[:2])
	p.PieceVerified(got[0].Piece)
	if more := p.Pick(1, 100, nil); len(more) != 2 {
		t.Errorf("Pick after one piece verified gave %d blocks, want 2", len(more))
	}
}

func TestRandomFirst(t *testing.T) {
	// Piece 0 is the rarest; random picking must not always choose it.
	seen := map[int]bool{}
	for seed := range uint64(20) {
		p, err := NewPicker(16*kib, 64*16*kib, rand.New(rand.NewPCG(seed, 0)), PickerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mustBitfield(t, p, 1, allOf(64))
		bf := allOf(64)
		bf.Clear(0)
		mustBitfield(t, p, 2, bf)
		seen[p.Pick(1, 1, nil)[0].Piece] = true
	}
	if len(seen) < 5 {
		t.Errorf("random first picks over 20 seeds chose only %v", seen)
	}
}

func TestBlockReceivedHostile(t *testing.T) {
	p := newTestPicker(t, 32*kib, 32*kib+100, PickerOptions{})
	mustBitfield(t, p, 1, allOf(2))
	p.Pick(1, 10, nil)
	for _, b := range []Block{
		{0, 1, 16 * kib},        // misaligned
		{0, 0, 100},             // wrong length
		{0, 32 * kib, 16 * kib}, // past the piece
		{1, 0, 16 * kib},        // last piece is 100 bytes
		{2, 0, 16 * kib},        // no such piece
		{-1, 0, 16 * kib},
		{0, -16 * kib, 16 * kib},
	} {
		if got := p.BlockReceived(1, b); got.Wanted {
			t.Errorf("BlockReceived(%v) wanted, want refused", b)
		}
	}
	if err := p.PeerHave(1, 2); err == nil {
		t.Error("PeerHave(2) of 2 pieces: no error")
	}
	if err := p.PeerBitfield(1, NewBitfield(3)); err == nil {
		t.Error("PeerBitfield of the wrong size: no error")
	}
	checkInvariants(t, p)
}

// TestPickerRandomEvents drives the picker with random events and checks
// its invariants after each one.
func TestPickerRandomEvents(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			n := int64(40 + seed%3*60) // one to three bitfield words
			p, err := NewPicker(48*kib, n*48*kib-5000, rand.New(rand.NewPCG(seed, 8)),
				PickerOptions{MaxActivePieces: int(seed % 4)})
			if err != nil {
				t.Fatal(err)
			}
			out := map[PeerID][]Block{}
			for step := 0; step < 3000 && !p.Complete(); step++ {
				randomEvent(t, p, r, out)
				checkInvariants(t, p)
			}
		})
	}
}

func randomEvent(t *testing.T, p *Picker, r *rand.Rand, out map[PeerID][]Block) {
	peer := PeerID(r.IntN(5))
	switch e := r.IntN(100); {
	case e < 5:
		bf := NewBitfield(p.NumPieces())
		for i := range p.NumPieces() {
			if r.IntN(3) > 0 {
				bf.Set(i)
			}
		}
		mustBitfield(t, p, peer, bf)
	case e < 15:
		p.PeerHave(peer, r.IntN(p.NumPieces()))
	case e < 45:
		out[peer] = p.Pick(peer, 1+r.IntN(8), out[peer])
	case e < 80 && len(out[peer]) > 0:
		k := r.IntN(len(out[peer]))
		b := out[peer][k]
		out[peer] = slices.Delete(out[peer], k, k+1)
		if r.IntN(10) == 0 {
			p.RequestCanceled(peer, b)
			return
		}
		if a := p.BlockReceived(peer, b); a.PieceDone {
			if r.IntN(5) == 0 {
				p.PieceFailed(b.Piece)
			} else {
				p.PieceVerified(b.Piece)
			}
		}
	case e < 85:
		p.PeerChoked(peer)
		out[peer] = nil
	case e < 88:
		p.PeerGone(peer)
		out[peer] = nil
	case e < 90:
		p.SetSequential(r.IntN(2) == 0)
	}
}

// checkInvariants recomputes the picker's derived state from scratch.
func checkInvariants(t *testing.T, p *Picker) {
	t.Helper()
	avail := make([]int32, p.numPieces)
	reqs := map[PeerID]map[Block]bool{}
	for id, ps := range p.peers {
		for i := range p.numPieces {
			if ps.have.Has(i) {
				avail[i]++
			}
		}
		reqs[id] = map[Block]bool{}
		for _, b := range ps.requests {
			if reqs[id][b] {
				t.Fatalf("peer %d requested %v twice", id, b)
			}
			reqs[id][b] = true
		}
	}
	free, inBuckets := 0, 0
	for i := range p.numPieces {
		ap := p.activeOf[i]
		wantWaiting := p.wanted.Has(i) && !p.have.Has(i) && ap == nil
		if avail[i] != p.avail[i] {
			t.Fatalf("piece %d: avail %d, recomputed %d", i, p.avail[i], avail[i])
		}
		if p.waiting.Has(i) != wantWaiting {
			t.Fatalf("piece %d: waiting %v, want %v", i, p.waiting.Has(i), wantWaiting)
		}
		if wantWaiting && p.buckets[p.avail[i]][p.pos[i]] != int32(i) {
			t.Fatalf("piece %d: not at its slot %d of bucket %d", i, p.pos[i], p.avail[i])
		}
		if ap == nil {
			continue
		}
		nfree := 0
		for k, bs := range ap.blocks {
			if !bs.received && len(bs.peers) == 0 {
				nfree++
				if k < ap.firstFree {
					t.Fatalf("piece %d: block %d is free, below firstFree %d", i, k, ap.firstFree)
				}
			}
			for _, q := range bs.peers {
				if !reqs[q][p.block(i, k)] {
					t.Fatalf("piece %d block %d: requested from %d, not in its requests", i, k, q)
				}
				delete(reqs[q], p.block(i, k))
			}
		}
		if nfree != ap.free {
			t.Fatalf("piece %d: free %d, recomputed %d", i, ap.free, nfree)
		}
		free += nfree
	}
	for _, b := range p.buckets {
		inBuckets += len(b)
	}
	if inBuckets != p.waiting.Count() || free != p.free {
		t.Fatalf("buckets hold %d, waiting %d; free %d, recomputed %d", inBuckets, p.waiting.Count(), p.free, free)
	}
	for id, m := range reqs {
		if len(m) > 0 {
			t.Fatalf("peer %d has requests no block knows of: %v", id, m)
		}
	}
}

// FuzzPickerPeerInput feeds the picker arbitrary peer input (indexes,
// offsets, lengths straight from the wire) between its own picks: it must
// not panic and must keep its invariants.
func FuzzPickerPeerInput(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Add([]byte{2, 0, 0, 0, 3, 0, 0, 0, 3, 1, 0x40, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := NewPicker(32*kib, 5*32*kib-1, rand.New(rand.NewPCG(1, 1)), PickerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []Block
		for len(in) >= 4 && len(out) < 1000 {
			op, peer, a, c := in[0]%6, PeerID(in[1]%3), int(int8(in[2])), int(in[3])
			in = in[4:]
			switch op {
			case 0:
				p.PeerHave(peer, a)
			case 1:
				bf := NewBitfield(5)
				for i := range 5 {
					if c&(1<<i) != 0 {
						bf.Set(i)
					}
				}
				mustBitfield(t, p, peer, bf)
			case 2:
				out = p.Pick(peer, c%20, out)
			case 3:
				b := Block{Piece: a, Begin: c * 1024, Length: 16 * kib}
				if len(out) > 0 && c%2 == 0 {
					b = out[c%len(out)]
				}
				if p.BlockReceived(peer, b).PieceDone {
					p.PieceVerified(b.Piece)
				}
			case 4:
				p.RequestCanceled(peer, Block{Piece: a, Begin: c * 1024, Length: c * 64})
			case 5:
				p.PeerGone(peer)
			}
			checkInvariants(t, p)
		}
	})
}
