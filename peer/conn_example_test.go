package peer_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

// A listener routes an incoming connection by the info hash in the first
// 48 bytes of its handshake, then accepts it; the dialler queues a pipeline
// of requests and sends them in one write.
func ExampleDial() {
	var infoHash [20]byte
	copy(infoHash[:], "an example info hash")
	torrents := map[[20]byte]peer.Limits{infoHash: {NumPieces: 100}}
	seeder := peer.Handshake{InfoHash: infoHash, PeerID: peer.NewPeerID()}
	leecher := peer.Handshake{InfoHash: infoHash, PeerID: peer.NewPeerID()}

	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		ln, err := aio.ListenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return struct{}{}, err
		}
		defer ln.Close()
		serve := aio.Spawn(t, "seeder", func(t *aio.Task) (struct{}, error) {
			tc, err := ln.Accept(t)
			if err != nil {
				return struct{}{}, err
			}
			in, err := peer.ReadIncoming(t, tc, 5*time.Second)
			if err != nil {
				return struct{}{}, err
			}
			lim, ok := torrents[in.InfoHash()]
			if !ok {
				return struct{}{}, tc.Close() // not ours: refuse
			}
			c, _, err := in.Accept(t, seeder, lim, 5*time.Second)
			if err != nil {
				return struct{}{}, err
			}
			defer c.Close()
			for range 3 {
				msg, err := c.ReadMessage(t)
				if err != nil {
					return struct{}{}, err
				}
				fmt.Println("seeder got", msg)
			}
			return struct{}{}, nil
		})

		c, _, err := peer.Dial(t, ln.Addr(), leecher, torrents[infoHash], 5*time.Second)
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		c.Queue(peer.AppendInterested(nil))
		for begin := uint32(0); begin < 2*peer.BlockSize; begin += peer.BlockSize {
			c.QueueMessage(peer.Message{ID: peer.Request, Index: 7, Begin: begin, Length: peer.BlockSize})
		}
		if err := c.Flush(t); err != nil { // one write for all three
			return struct{}{}, err
		}
		return aio.Await(t, serve)
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// seeder got interested
	// seeder got request 7:0+16384
	// seeder got request 7:16384+16384
}
