package torrent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

// TestRequestsBeyondReqqDroppedNotThePeer: a leecher that queues more
// requests than we hold (libtorrent at max_out_request_queue 1500 did)
// was disconnected ("more than 512 requests outstanding"). Our extension
// handshake must say how many we hold (reqq), the excess must be dropped,
// and the connection must go on serving.
func TestRequestsBeyondReqqDroppedNotThePeer(t *testing.T) {
	sw, _ := bigSwarm(t, 16<<20)
	data, err := os.ReadFile(filepath.Join(sw.src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	const sent = maxUploads + 100
	_, err = aio.Run(func(at *aio.Task) (struct{}, error) {
		_, addr, err := ourSeeder(at, sw)
		if err != nil {
			return struct{}{}, err
		}
		ours := peer.Handshake{InfoHash: sw.meta.InfoHash, PeerID: peer.NewPeerID()}
		ours.Reserved.Set(peer.ExtensionProtocolBit)
		c, _, err := peer.Dial(at, addr, ours, peer.Limits{NumPieces: sw.meta.NumPieces()}, 5*time.Second)
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		c.SetIdleTimeout(10 * time.Second) // bounds every read below
		if err := c.Send(at, peer.AppendInterested(nil)); err != nil {
			return struct{}{}, err
		}
		reqq, err := readUntilUnchoked(at, c)
		if err != nil {
			return struct{}{}, err
		}
		if reqq != maxUploads {
			return struct{}{}, fmt.Errorf("extension handshake says reqq %d, want %d", reqq, maxUploads)
		}
		// Block i is the i-th 16 KiB of the file: all in one write, so
		// that they arrive faster than they are served.
		var reqs []byte
		for i := range sent {
			reqs = peer.AppendRequest(reqs, uint32(i/16), uint32(i%16*peer.BlockSize), peer.BlockSize)
		}
		if err := c.Send(at, reqs); err != nil {
			return struct{}{}, err
		}
		// Then one more, once the ones we hold were served: it must be
		// answered, on the same connection.
		got, probed := 0, false
		for {
			m, err := c.ReadMessage(at)
			if err != nil {
				return struct{}{}, fmt.Errorf("after %d blocks: %w", got, err)
			}
			if m.ID != peer.Piece {
				continue
			}
			off := int(m.Index)*int(sw.meta.PieceLength) + int(m.Begin)
			if !bytes.Equal(m.Payload, data[off:off+len(m.Payload)]) {
				return struct{}{}, fmt.Errorf("block at %d differs from the file", off)
			}
			if off == sent*peer.BlockSize {
				if got < maxUploads || got > sent {
					return struct{}{}, fmt.Errorf("served %d of %d requests, want at least %d (and at most all)", got, sent, maxUploads)
				}
				return struct{}{}, nil
			}
			if got++; got >= maxUploads && !probed {
				probed = true
				if err := c.Send(at, peer.AppendRequest(nil, uint32(sent/16), uint32(sent%16*peer.BlockSize), peer.BlockSize)); err != nil {
					return struct{}{}, err
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readUntilUnchoked reads until the seeder unchokes us, and returns the
// reqq of its extension handshake (0 if none came first).
func readUntilUnchoked(at *aio.Task, c *peer.Conn) (int, error) {
	reqq := 0
	for {
		m, err := c.ReadMessage(at)
		if err != nil {
			return 0, err
		}
		switch {
		case m.ID == peer.Extended && m.ExtID == peer.ExtHandshakeID:
			h, err := peer.ParseExtHandshake(m.Payload)
			if err != nil {
				return 0, err
			}
			reqq = h.Reqq
		case m.ID == peer.Unchoke:
			return reqq, nil
		}
	}
}
