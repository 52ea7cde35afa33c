package torrent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/peer/mse"
)

// TestLibtorrentMSESmoke dials a libtorrent seeder that forces encryption
// (in and out) with only RC4, or only plaintext-in-MSE, allowed. Using
// package mse and peer alone (no session), it runs the MSE handshake with
// our BitTorrent handshake as the initial payload, then reads the seeder's
// bitfield and fetches one block, which must equal the file's first
// 16 KiB: the handshake and both keystreams agree with libtorrent's.
func TestLibtorrentMSESmoke(t *testing.T) {
	needLibtorrent(t)
	for _, tc := range []struct {
		level string // allowed_enc_level: 1 plaintext, 2 rc4
		want  mse.Method
	}{{"2", mse.RC4}, {"1", mse.Plaintext}} {
		t.Run(tc.want.String(), func(t *testing.T) {
			sw, torrentPath := bigSwarm(t, 1<<20)
			want, err := os.ReadFile(filepath.Join(sw.src, "big.bin"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = aio.Run(func(at *aio.Task) (struct{}, error) {
				seeder := startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout, "--seed",
					"--set", "out_enc_policy=0", "--set", "in_enc_policy=0", "--set", "allowed_enc_level="+tc.level)
				addr, err := seeder.ready(at)
				if err != nil {
					return struct{}{}, err
				}
				// libtorrent refuses connections until its auto-manager has
				// started the torrent, a second or so after READY.
				for try := 0; ; try++ {
					err = mseFetchBlock(at, addr, sw.meta.InfoHash, len(sw.meta.Pieces), tc.want, want[:peer.BlockSize])
					if err == nil || try == 10 || !errors.Is(err, io.ErrUnexpectedEOF) {
						return struct{}{}, err
					}
					if err := aio.Sleep(at, 300*time.Millisecond); err != nil {
						return struct{}{}, err
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// mseFetchBlock dials addr over MSE, offering both methods, and checks
// that method was selected, that the peer's bitfield has every piece, and
// that block 0 of piece 0 is want.
func mseFetchBlock(at *aio.Task, addr netip.AddrPort, ih [20]byte, numPieces int, method mse.Method, want []byte) error {
	tc, err := aio.DialTCP(at, addr, 5*time.Second)
	if err != nil {
		return err
	}
	ours := peer.Handshake{InfoHash: ih, PeerID: [20]byte{'-', 'A', 'I', 'M', 'S', 'E'}}
	s, got, err := mse.Initiate(at, tc, ih, mse.Plaintext|mse.RC4, peer.AppendHandshake(nil, ours), 10*time.Second)
	if err != nil {
		return err
	}
	if got != method {
		return fmt.Errorf("libtorrent selected %v, want %v", got, method)
	}
	c, _, err := peer.DialStreamSent(at, s, ours, peer.Limits{NumPieces: numPieces}, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetIdleTimeout(10 * time.Second)
	if err := c.Send(at, peer.AppendInterested(nil)); err != nil {
		return err
	}
	sawBitfield, requested := false, false
	for {
		m, err := c.ReadMessage(at)
		if err != nil {
			return err
		}
		switch m.ID {
		case peer.Bitfield:
			for i := range numPieces {
				if m.Payload[i/8]&(0x80>>(i%8)) == 0 {
					return fmt.Errorf("bitfield lacks piece %d: %x", i, m.Payload)
				}
			}
			sawBitfield = true
		case peer.Unchoke:
			if !requested {
				requested = true
				if err := c.Send(at, peer.AppendRequest(nil, 0, 0, uint32(len(want)))); err != nil {
					return err
				}
			}
		case peer.Piece:
			if !sawBitfield {
				return fmt.Errorf("a piece before the bitfield")
			}
			if m.Index != 0 || m.Begin != 0 || !bytes.Equal(m.Payload, want) {
				return fmt.Errorf("got block %d/%d of %d bytes, not the file's first %d bytes", m.Index, m.Begin, len(m.Payload), len(want))
			}
			return nil
		}
	}
}
