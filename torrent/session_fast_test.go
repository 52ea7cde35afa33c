package torrent

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
)

// fastHandshake is a fake peer's handshake with the Fast extension bit.
func fastHandshake(m *metainfo.Torrent) peer.Handshake {
	h := peer.Handshake{InfoHash: m.InfoHash, PeerID: peer.NewPeerID()}
	h.Reserved.Set(peer.FastExtensionBit)
	return h
}

// fastFakePeer accepts connections for m with the Fast extension on, and
// runs behave on each (its first message is behave's to send).
func fastFakePeer(at *aio.Task, m *metainfo.Torrent, behave func(t *aio.Task, c *peer.Conn) error) (netip.AddrPort, error) {
	return fakePeerWith(at, m, fastHandshake(m), behave)
}

// TestFastPeerChokingUsIsAskedOnlyForAllowedPieces: a seeder that says
// HAVE_ALL and keeps us choked, but allows one piece, gets requests for
// that piece's blocks and nothing else (libtorrent drops peers that ask
// for others while choked); its REJECT of one of them sends the block
// back to the pool, and the download still completes from an honest
// seeder.
func TestFastPeerChokingUsIsAskedOnlyForAllowedPieces(t *testing.T) {
	const allowed = 3
	var asked []peer.Message
	var rejected bool
	leech, logged := downloadBeside(t, func(at *aio.Task, sw *swarm) (netip.AddrPort, error) {
		return fastFakePeer(at, sw.meta, func(t *aio.Task, c *peer.Conn) error {
			c.Queue(peer.AppendHaveAll(nil))
			c.Queue(peer.AppendAllowedFast(nil, allowed))
			if err := c.Flush(t); err != nil {
				return err
			}
			for {
				m, err := c.ReadMessage(t)
				if err != nil {
					return err
				}
				if m.ID != peer.Request {
					continue
				}
				asked = append(asked, m)
				if !rejected {
					rejected = true
					c.Queue(peer.AppendReject(nil, m.Index, m.Begin, m.Length))
					if err := c.Flush(t); err != nil {
						return err
					}
				}
			}
		})
	})
	if len(asked) == 0 {
		t.Fatal("the choking fast peer was asked for nothing, not even its allowed piece")
	}
	for _, m := range asked {
		if m.Index != allowed {
			t.Errorf("asked the choking peer for piece %d; only %d is allowed", m.Index, allowed)
		}
	}
	if all := strings.Join(logged, "\n"); strings.Contains(all, "never requested") {
		t.Errorf("a REJECT of our own request was taken for a stray one; log: %q", logged)
	}
	if !leech.Progress().Complete {
		t.Fatal("the download did not complete")
	}
}

// TestFastBadInputDropsThePeer: a REJECT of a block we never asked for,
// HAVE_ALL after a bitfield, and ALLOWED_FAST or SUGGEST with a piece out
// of range each end the connection with the reason logged.
func TestFastBadInputDropsThePeer(t *testing.T) {
	for _, c := range []struct {
		name string
		send func(n int) []byte
		want string
	}{
		{"stray reject", func(int) []byte {
			return peer.AppendReject(peer.AppendHaveNone(nil), 0, 0, piece.BlockSize)
		}, "rejected 0:0+16384, which we never requested"},
		{"have all after a bitfield", func(n int) []byte {
			return peer.AppendHaveAll(peer.AppendBitfield(nil, piece.NewBitfield(n).Bytes()))
		}, "have all after it said what it has"},
		{"allowed fast out of range", func(n int) []byte {
			return peer.AppendAllowedFast(peer.AppendHaveNone(nil), uint32(n))
		}, "allowed fast: index"},
		{"suggest out of range", func(n int) []byte {
			return peer.AppendSuggest(peer.AppendHaveNone(nil), uint32(n+7))
		}, "suggest piece: index"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, logged := downloadBeside(t, func(at *aio.Task, sw *swarm) (netip.AddrPort, error) {
				return fastFakePeer(at, sw.meta, func(t *aio.Task, conn *peer.Conn) error {
					conn.Queue(c.send(sw.meta.NumPieces()))
					return conn.Flush(t)
				})
			})
			if !strings.Contains(strings.Join(logged, "\n"), c.want) {
				t.Errorf("no log line says %q; log: %q", c.want, logged)
			}
		})
	}
}

// TestSeederSpeaksFast: a fast leecher that connects to our seeder is
// told HAVE_ALL and our allowed fast set (BEP 6's, for its IP), gets a
// REJECT for a request outside it while choked, the block for one inside
// it, and a REJECT for a request it cancels.
func TestSeederSpeaksFast(t *testing.T) {
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, map[string]int{"a.bin": 1 << 20}, 16<<10) // 64 pieces
		if err != nil {
			return struct{}{}, err
		}
		seeder, _, err := sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		if err := aio.Sleep(at, 200*time.Millisecond); err != nil { // it checks its data
			return struct{}{}, err
		}
		n := sw.meta.NumPieces()
		c, _, err := peer.Dial(at, seeder.client.Addr(), fastHandshake(sw.meta), peer.Limits{NumPieces: n, MaxBlock: piece.BlockSize}, time.Second)
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		// What it says first: HAVE_ALL, then the allowed fast set.
		want := peer.AllowedFastSet(netip.MustParseAddr("127.0.0.1"), sw.meta.InfoHash, n, peer.AllowedFastK)
		var got []uint32
		first := true
		for len(got) < len(want) {
			m, err := c.ReadMessage(at)
			if err != nil {
				return struct{}{}, err
			}
			switch {
			case first && m.ID != peer.HaveAll:
				return struct{}{}, fmt.Errorf("first message %v, want have all", m.ID)
			case m.ID == peer.AllowedFast:
				got = append(got, m.Index)
			}
			first = false
		}
		if !slices.Equal(got, want) {
			return struct{}{}, fmt.Errorf("allowed fast %v, want %v", got, want)
		}
		outside := uint32(0)
		for slices.Contains(want, outside) {
			outside++
		}
		// Choked (we never said interested): outside is rejected, inside
		// served; then a request we cancel is rejected.
		for _, i := range []uint32{outside, want[0], want[1]} {
			c.Queue(peer.AppendRequest(nil, i, 0, piece.BlockSize))
		}
		c.Queue(peer.AppendCancel(nil, want[1], 0, piece.BlockSize))
		if err := c.Flush(at); err != nil {
			return struct{}{}, err
		}
		var answers []string
		for len(answers) < 3 {
			m, err := c.ReadMessage(at)
			if err != nil {
				return struct{}{}, fmt.Errorf("after %q: %w", answers, err)
			}
			switch m.ID {
			case peer.Reject:
				answers = append(answers, fmt.Sprintf("reject %d", m.Index))
			case peer.Piece:
				answers = append(answers, fmt.Sprintf("piece %d", m.Index))
			}
		}
		slices.Sort(answers)
		wantAnswers := []string{fmt.Sprintf("piece %d", want[0]), fmt.Sprintf("reject %d", outside), fmt.Sprintf("reject %d", want[1])}
		slices.Sort(wantAnswers)
		if !slices.Equal(answers, wantAnswers) {
			return struct{}{}, fmt.Errorf("answers %q, want %q", answers, wantAnswers)
		}
		return struct{}{}, nil
	})
	if err != nil && !errors.Is(err, aio.ErrCanceled) {
		t.Fatal(err)
	}
}
