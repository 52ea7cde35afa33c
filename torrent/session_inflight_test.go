package torrent

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/piece"
)

func TestInFlightBuffers(t *testing.T) {
	for _, c := range []struct {
		pieceLen, budget int64
		want             int
	}{
		{16 << 10, 32 << 20, 2048},
		{16 << 20, 32 << 20, 2},
		{20 << 20, 32 << 20, 1}, // two would be 40 MiB
		{32 << 20, 32 << 20, 1},
		{metainfo.MaxPieceLength, 32 << 20, 1}, // the floor of two was 512 MiB
		{metainfo.MaxPieceLength, 1 << 30, 4},
	} {
		got := inFlightBuffers(c.pieceLen, c.budget)
		if got != c.want {
			t.Errorf("inFlightBuffers(%d, %d) = %d, want %d", c.pieceLen, c.budget, got, c.want)
		}
		if held := int64(got) * c.pieceLen; held > max(c.budget, c.pieceLen) {
			t.Errorf("piece length %d, budget %d: %d bytes in flight, over max(budget, one piece)", c.pieceLen, c.budget, held)
		}
	}
}

// hugePieceMeta is a synthetic torrent of 1 GiB in four 256 MiB pieces,
// as a hostile magnet link's metadata may describe. Nothing of it is ever
// allocated: the test counts buffers.
func hugePieceMeta() *metainfo.Torrent {
	const length = 4 * metainfo.MaxPieceLength
	return &metainfo.Torrent{
		Name: "huge", InfoHash: [20]byte{1}, PieceLength: metainfo.MaxPieceLength, Length: length,
		Pieces: make([][20]byte, 4),
		Files:  []metainfo.File{{Path: []string{"huge"}, Length: length}},
	}
}

// TestHugePiecesKeepOneInFlight: however many peers offer blocks, a
// session whose pieces are larger than its budget holds one piece buffer,
// not the two it used to (512 MiB against 32 MiB).
func TestHugePiecesKeepOneInFlight(t *testing.T) {
	c := &Client{sessions: make(map[[20]byte]*Session)}
	c.cfg.setDefaults()
	s, err := c.Add(hugePieceMeta(), SessionOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s.addBuffer(nil) // what Run's firstBuffer does, without the 256 MiB
	all := piece.NewBitfield(4)
	all.SetAll()
	for id := piece.PeerID(1); id <= 3; id++ {
		if err := s.picker.PeerBitfield(id, all); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 40 { // 16,384 blocks a piece: enough to want more
		for id := piece.PeerID(1); id <= 3; id++ {
			s.picker.Pick(id, 256, nil)
		}
		if s.wantsBuffer() {
			t.Fatalf("round %d: a second piece buffer is wanted (%d in flight): over the budget", round, s.bufs)
		}
	}
	if n := s.picker.ActivePieces(); n != 1 {
		t.Errorf("%d pieces in progress, want 1", n)
	}
	if got, want := s.inFlightBytes(), int64(metainfo.MaxPieceLength); got != want {
		t.Errorf("in-flight bytes %d, want one piece (%d)", got, want)
	}
}

// TestPiecesLargerThanTheBudgetDownloadOneAtATime runs a real download
// whose pieces (64 KiB) are twice its budget (32 KiB).
func TestPiecesLargerThanTheBudgetDownloadOneAtATime(t *testing.T) {
	dst := t.TempDir()
	var leech *Session
	var src string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, map[string]int{"a.bin": 600_000}, 64<<10)
		if err != nil {
			return struct{}{}, err
		}
		src = sw.src
		var peers []netip.AddrPort
		for i := range 2 {
			seeder, _, err := sw.node(at, fmt.Sprintf("seeder%d", i), sw.src, true, nil)
			if err != nil {
				return struct{}{}, err
			}
			peers = append(peers, seeder.client.Addr())
		}
		s, h, err := sw.nodeWith(at, "leecher", dst, false, ClientConfig{}, SessionOptions{
			Peers: peers, MaxInFlight: 32 << 10, NoTrackers: true,
		})
		if err != nil {
			return struct{}{}, err
		}
		leech = s
		_, err = aio.AwaitTimeout(at, h, 60*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	if leech.bufs != 1 || leech.inFlightBytes() != 64<<10 {
		t.Errorf("%d piece buffers (%d bytes), want 1 (one piece)", leech.bufs, leech.inFlightBytes())
	}
}
