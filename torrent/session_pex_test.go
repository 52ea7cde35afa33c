package torrent

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
	"github.com/aiotorrent/aiotorrent/piece"
)

// TestLeecherFindsSeederThroughPEX: the leecher is told only of a middle
// peer, which downloads from a (slow) seeder; the middle peer's ut_pex
// names the seeder, and the leecher dials it.
func TestLeecherFindsSeederThroughPEX(t *testing.T) {
	var leech *Session
	var seedAddr, leechAddr netip.AddrPort
	var middleList, seedList *peerList
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		seeder, _, err := sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{MaxUploadRate: 300 << 10}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		seedAddr = seeder.client.Addr()
		middle, _, err := sw.nodeWith(at, "middle", t.TempDir(), false, ClientConfig{}, SessionOptions{
			NoTrackers: true, Peers: []netip.AddrPort{seedAddr}})
		if err != nil {
			return struct{}{}, err
		}
		var h *aio.Handle[struct{}]
		leech, h, err = sw.nodeWith(at, "leecher", t.TempDir(), false, ClientConfig{}, SessionOptions{
			NoTrackers: true, Peers: []netip.AddrPort{middle.client.Addr()}})
		if err != nil {
			return struct{}{}, err
		}
		leechAddr, middleList, seedList = leech.client.Addr(), middle.peerList, seeder.peerList
		_, err = aio.AwaitTimeout(at, h, 30*time.Second)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The leecher learns the seeder from the middle peer's PEX, and the
	// seeder the leecher: whichever dials first connects them.
	byLeech, bySeeder := leech.peerList.entries[seedAddr], seedList.entries[leechAddr]
	if (byLeech == nil || byLeech.sources&fromPEX == 0) && (bySeeder == nil || bySeeder.sources&fromPEX == 0) {
		t.Fatalf("neither learnt the other through PEX: %+v, %+v", byLeech, bySeeder)
	}
	if p := leech.Progress(); !p.Complete {
		t.Fatalf("progress %+v, want complete", p)
	}
	// The middle peer learnt where the leecher listens from its
	// extension handshake ("p"), though the leecher dialled it.
	if e := middleList.entries[leechAddr]; e == nil || e.sources&fromIncoming == 0 {
		t.Errorf("the leecher in the middle peer's list: %+v, want its listen address, fromIncoming", e)
	}
}

// TestPexAbuseDropsThePeer: more than six ut_pex messages a minute, or one
// that is not a dictionary, end the connection with the reason logged.
// What a well-behaved message adds reaches the peer list.
func TestPexAbuseDropsThePeer(t *testing.T) {
	for _, c := range []struct {
		name string
		msgs func() [][]byte
		want string
	}{
		{"flood", func() [][]byte {
			var out [][]byte
			for i := range 7 {
				m := peer.PexMsg{Added: []netip.AddrPort{netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 9}), uint16(1000+i))}}
				out = append(out, peer.AppendPexMsg(nil, ourUTPexID, m))
			}
			return out
		}, "7 ut_pex messages in 1m0s"},
		{"not a dict", func() [][]byte { return [][]byte{peer.AppendExtended(nil, ourUTPexID, []byte("le"))} }, "bad extension"},
	} {
		t.Run(c.name, func(t *testing.T) {
			leech, logged := downloadBeside(t, func(at *aio.Task, sw *swarm) (netip.AddrPort, error) {
				return fakePeer(at, sw.meta, piece.NewBitfield(sw.meta.NumPieces()), func(t *aio.Task, conn *peer.Conn) error {
					for _, m := range c.msgs() {
						conn.Queue(m)
					}
					return conn.Flush(t)
				})
			})
			if !strings.Contains(strings.Join(logged, "\n"), c.want) {
				t.Errorf("no log line says %q; log: %q", c.want, logged)
			}
			if c.name == "flood" && leech.peerList.entries[ap("127.0.0.9:1000")] == nil {
				t.Error("the first messages' peers are not in the peer list")
			}
		})
	}
}
