package torrent

import (
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestUTPDownloadBetweenOurClients: a leecher whose peer list says the
// seeder speaks uTP dials it over uTP (on the seeder's TCP port, where
// its UDP socket is) and downloads every byte over that connection.
func TestUTPDownloadBetweenOurClients(t *testing.T) {
	var l *Session
	var src, dst string
	overUTP, overTCP := 0, 0
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		src, dst = sw.src, t.TempDir()
		seeder, _, err := sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		if err := aio.Sleep(at, 200*time.Millisecond); err != nil { // it checks its data
			return struct{}{}, err
		}
		addr := seeder.client.Addr()
		var h *aio.Handle[struct{}]
		l, h, err = sw.nodeWith(at, "leecher", dst, false, ClientConfig{},
			SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{addr}})
		if err != nil {
			return struct{}{}, err
		}
		// What a PEX flag or an earlier uTP connection would have said;
		// the session has not run yet.
		l.peerList.add(addr, fromUser)
		l.peerList.setUTP(addr, true)
		l.onVerify = func(int) {
			for _, p := range l.peers {
				if p.utp {
					overUTP++
				} else {
					overTCP++
				}
			}
		}
		_, err = aio.AwaitTimeout(at, h, 30*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	if overUTP == 0 || overTCP != 0 {
		t.Fatalf("pieces verified with %d uTP and %d TCP connections up, want uTP only", overUTP, overTCP)
	}
	if !l.peerList.utpFirst(l.opts.Peers[0]) {
		t.Fatal("the peer list forgot that the seeder speaks uTP")
	}
}

// TestUTPDialFallsBackToTCP: a peer said to speak uTP that does not (its
// client has uTP off) is dialled over TCP after the uTP dial fails, and
// the peer list stops saying it speaks uTP.
func TestUTPDialFallsBackToTCP(t *testing.T) {
	var l *Session
	var src, dst string
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		src, dst = sw.src, t.TempDir()
		seeder, _, err := sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{NoUTP: true}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		if err := aio.Sleep(at, 200*time.Millisecond); err != nil {
			return struct{}{}, err
		}
		addr := seeder.client.Addr()
		var h *aio.Handle[struct{}]
		l, h, err = sw.nodeWith(at, "leecher", dst, false, ClientConfig{DialTimeout: time.Second},
			SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{addr}})
		if err != nil {
			return struct{}{}, err
		}
		l.peerList.add(addr, fromUser)
		l.peerList.setUTP(addr, true)
		_, err = aio.AwaitTimeout(at, h, 30*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	if l.peerList.utpFirst(l.opts.Peers[0]) {
		t.Fatal("the peer list still says the seeder speaks uTP")
	}
}
