package torrent

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

// TestIncomingPeerOfEndedSessionIsClosed: a peer whose handshake finishes
// after its session ended used to be adopted into the dead session (a
// peer task started in a group nobody waits for, over closed storage).
// It is closed instead.
func TestIncomingPeerOfEndedSessionIsClosed(t *testing.T) {
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		// One client, and a session that ends while the client goes on
		// (the CLI runs several torrents in one client).
		c, err := NewClient(at, ClientConfig{ListenAddr: loopback, Logf: t.Logf})
		if err != nil {
			return struct{}{}, err
		}
		defer c.Close()
		s, err := c.Add(sw.meta, SessionOptions{Dir: sw.src, Seed: true, NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		aio.Spawn(at, "listener", func(t *aio.Task) (struct{}, error) { return struct{}{}, c.Run(t) })
		h := aio.Spawn(at, "seeder", func(t *aio.Task) (struct{}, error) { return struct{}{}, s.Run(t) })
		if err := aio.Sleep(at, 100*time.Millisecond); err != nil { // its peers are running
			return struct{}{}, err
		}
		conn, err := aio.DialTCP(at, s.client.Addr(), time.Second)
		if err != nil {
			return struct{}{}, err
		}
		defer conn.Close()
		hs := peer.AppendHandshake(nil, peer.Handshake{InfoHash: sw.meta.InfoHash, PeerID: [20]byte{'x'}})
		if err := conn.WriteAll(at, hs[:peer.HandshakeLen-20]); err != nil {
			return struct{}{}, err
		}
		theirs := make([]byte, peer.HandshakeLen)
		if err := conn.ReadFull(at, theirs); err != nil { // the session accepted, waits for our id
			return struct{}{}, fmt.Errorf("reading the seeder's handshake: %w", err)
		}
		h.Cancel()
		if _, err := aio.Await(at, h); !errors.Is(err, aio.ErrCanceled) {
			return struct{}{}, fmt.Errorf("session ended with %v, want ErrCanceled", err)
		}
		if err := conn.WriteAll(at, hs[peer.HandshakeLen-20:]); err != nil {
			return struct{}{}, err
		}
		n, err := aio.WaitFor(at, 5*time.Second, func(t *aio.Task) (int, error) {
			return conn.Read(t, make([]byte, 1024))
		})
		if n != 0 || !errors.Is(err, io.EOF) {
			return struct{}{}, fmt.Errorf("after the session ended: read %d bytes, %v; want the connection closed", n, err)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
