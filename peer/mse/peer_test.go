package mse

import (
	"fmt"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

// The way a client puts MSE under peer.Conn, both directions: the
// dialler sends its BitTorrent handshake as the initial payload and reads
// the answer with peer.DialStreamSent; the listener peeks at the first
// bytes, runs Accept, and hands the initial payload to
// peer.ReadIncomingPrefix.

var (
	peerA = peer.Handshake{InfoHash: testHash(2), PeerID: [20]byte{'-', 'A', 'A'}}
	peerB = peer.Handshake{InfoHash: testHash(2), PeerID: [20]byte{'-', 'B', 'B'}}
	lim   = peer.Limits{NumPieces: 1000}
)

// connsOverMSE returns two peer.Conns over loopback with MSE under them,
// provide offered by the dialler and allowed by the listener; method
// "none" skips MSE altogether, for comparison.
func connsOverMSE(task *aio.Task, provide, allowed Method) (dialled, accepted *peer.Conn, err error) {
	d, a, err := tcpPair(task)
	if err != nil {
		return nil, nil, err
	}
	srv := aio.Spawn(task, "listener", func(task *aio.Task) (*peer.Conn, error) {
		first := make([]byte, PeekLen)
		if err := a.ReadFull(task, first); err != nil {
			return nil, err
		}
		s, prefix := Stream(a), first
		if !IsPlaintext(first) {
			acc, err := Accept(task, a, first, LookupList(testHash(1), testHash(2)), allowed, 5*time.Second)
			if err != nil {
				return nil, err
			}
			s, prefix = acc.Stream, acc.InitialPayload
		}
		in, err := peer.ReadIncomingPrefix(task, s, prefix, 5*time.Second)
		if err != nil {
			return nil, err
		}
		c, _, err := in.Accept(task, peerB, lim, 5*time.Second)
		return c, err
	})
	var c *peer.Conn
	if provide == 0 {
		c, _, err = peer.DialStream(task, d, peerA, lim, 5*time.Second)
	} else {
		var s Stream
		s, _, err = Initiate(task, d, peerA.InfoHash, provide, peer.AppendHandshake(nil, peerA), 5*time.Second)
		if err == nil {
			c, _, err = peer.DialStreamSent(task, s, peerA, lim, 5*time.Second)
		}
	}
	sc, serr := aio.Await(task, srv)
	if err != nil || serr != nil {
		return nil, nil, fmt.Errorf("dialler: %v; listener: %v", err, serr)
	}
	return c, sc, nil
}

func TestPeerConnOverMSE(t *testing.T) {
	for _, m := range []Method{0, Plaintext, RC4} {
		t.Run(fmt.Sprint(m), func(t *testing.T) {
			runLoop(t, func(task *aio.Task) error {
				d, a, err := connsOverMSE(task, m, Plaintext|RC4)
				if err != nil {
					return err
				}
				defer d.Close()
				defer a.Close()
				block := randBytes(7, peer.BlockSize)
				if err := a.Send(task, peer.AppendHave(nil, 42)); err != nil {
					return err
				}
				if err := d.SendPiece(task, 3, 16384, block); err != nil {
					return err
				}
				got, err := d.ReadMessage(task)
				if err != nil {
					return err
				}
				if got.ID != peer.Have || got.Index != 42 {
					t.Errorf("dialler got %v, want have 42", got)
				}
				got, err = a.ReadMessage(task)
				if err != nil {
					return err
				}
				if got.ID != peer.Piece || got.Index != 3 || got.Begin != 16384 || string(got.Payload) != string(block) {
					t.Errorf("listener got %v, want piece 3/16384 with the block", got.ID)
				}
				return nil
			})
		})
	}
}
