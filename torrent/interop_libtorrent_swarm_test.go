package torrent

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/lsd"
)

// Interop with libtorrent beyond one connection: peer exchange, the Fast
// extension under choking, and local service discovery. The harness is
// in interop_libtorrent_test.go.

// ltPeerInfo is one PEER line of peer.py: how libtorrent found a peer.
type ltPeerInfo struct {
	Addr     string
	PEX, LSD bool
	DHT      bool
	Incoming bool
	Seed     bool
}

// peers returns the PEER lines peer.py printed (at DONE, or as it exits).
func (lp *ltPeer) peers() []ltPeerInfo {
	var out []ltPeerInfo
	for _, l := range lp.lines.since(0) {
		rest, ok := strings.CutPrefix(l, "PEER ")
		if !ok {
			continue
		}
		addr, js, _ := strings.Cut(rest, " ")
		var p struct {
			PEX, LSD, DHT, Incoming, Seed bool
		}
		if err := json.Unmarshal([]byte(js), &p); err != nil {
			continue
		}
		out = append(out, ltPeerInfo{Addr: addr, PEX: p.PEX, LSD: p.LSD, DHT: p.DHT, Incoming: p.Incoming, Seed: p.Seed})
	}
	return out
}

// TestLibtorrentPexFindsTheSeeder, case 3 of BEP 11 interop, both ways:
//   - we are told only of a libtorrent leecher L1 that downloads from a
//     libtorrent seeder S; L1's ut_pex names S, and we connect to it;
//   - a libtorrent leecher L2 told only of us meets the others through
//     our ut_pex.
func TestLibtorrentPexFindsTheSeeder(t *testing.T) {
	needLibtorrent(t)
	sw, torrentPath := bigSwarm(t, 16<<20)
	dst := t.TempDir()
	var l2 *ltPeer
	var seedAddr netip.AddrPort
	var leech *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		// Slow, so that nobody is done before PEX has gone round.
		seeder := startLibtorrent(t, "libtorrent seeder S", torrentPath, sw.src, interopTimeout,
			append(ltSettings, "--seed", "--upload-rate", fmt.Sprint(2<<20))...)
		var err error
		if seedAddr, err = seeder.ready(at); err != nil {
			return struct{}{}, err
		}
		l1 := startLibtorrent(t, "libtorrent leecher L1", torrentPath, t.TempDir(), interopTimeout,
			append(ltSettings, "--connect", seedAddr.String(), "--stay")...)
		l1Addr, err := l1.ready(at)
		if err != nil {
			return struct{}{}, err
		}
		// We go on seeding once done, as a user would: L2 is mid-way
		// through pieces it asked us for.
		leech, _, err = sw.nodeWith(at, "leecher", dst, true, ClientConfig{},
			SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{l1Addr}})
		if err != nil {
			return struct{}{}, err
		}
		l2 = startLibtorrent(t, "libtorrent leecher L2", torrentPath, t.TempDir(), interopTimeout,
			append(ltSettings, "--connect", leech.client.Addr().String())...)
		if _, err := l2.ready(at); err != nil {
			return struct{}{}, err
		}
		if err := l2.done(at, interopTimeout); err != nil {
			return struct{}{}, err
		}
		if err := aio.Timeout(at, interopTimeout, leech.complete.Wait); err != nil {
			return struct{}{}, fmt.Errorf("our download: %w (progress %+v)", err, leech.Progress())
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
	if e := leech.peerList.entries[seedAddr]; e == nil || e.sources&fromPEX == 0 || e.lastTry.IsZero() {
		t.Errorf("S in our peer list: %+v, want learnt from L1's ut_pex and dialled", e)
	}
	// L2 was told of us alone, and the others were never told of L2: any
	// other peer it is connected to, whichever side dialled, came from
	// our ut_pex (directly, or passed on by L1's).
	var others []ltPeerInfo
	for _, p := range l2.peers() {
		if p.Addr != leech.client.Addr().String() {
			others = append(others, p)
		}
	}
	if len(others) == 0 {
		t.Errorf("L2's peers %+v: want one besides us, met through our ut_pex", l2.peers())
	}
}

// TestLibtorrentFastExtension, case 4, both ways. A libtorrent seeder with
// one unchoke slot, rotating, serves us and two libtorrent leechers: it
// says HAVE_ALL, REJECTs our requests when it chokes us, and we are
// served allowed fast pieces while choked. Then our seeder, with one
// unchoke slot (and one optimistic) of its own, does the same to three
// libtorrent leechers, who must finish.
func TestLibtorrentFastExtension(t *testing.T) {
	needLibtorrent(t)
	t.Run("libtorrent seeds", func(t *testing.T) {
		sw, torrentPath := bigSwarm(t, 16<<20)
		dst := t.TempDir()
		var leech *Session
		_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
			seeder := startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout,
				append(ltSettings, "--seed", "--choke-slots", "1", "--upload-rate", fmt.Sprint(4<<20),
					"--set", "seeding_piece_quota=2", "--set", "unchoke_interval=1",
					"--set", "optimistic_unchoke_interval=1", "--set", "allowed_fast_set_size=10")...)
			addr, err := seeder.ready(at)
			if err != nil {
				return struct{}{}, err
			}
			var others []*ltPeer
			for i := range 2 {
				lt := startLibtorrent(t, fmt.Sprintf("libtorrent leecher %d", i), torrentPath, t.TempDir(), interopTimeout,
					append(ltSettings, "--connect", addr.String())...)
				if _, err := lt.ready(at); err != nil {
					return struct{}{}, err
				}
				others = append(others, lt)
			}
			var h *aio.Handle[struct{}]
			leech, h, err = sw.nodeWith(at, "leecher", dst, false, ClientConfig{},
				SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{addr}})
			if err != nil {
				return struct{}{}, err
			}
			if _, err := aio.AwaitTimeout(at, h, interopTimeout); err != nil {
				return struct{}{}, fmt.Errorf("our download: %w (progress %+v)", err, leech.Progress())
			}
			for _, lt := range others {
				if err := lt.done(at, interopTimeout); err != nil {
					return struct{}{}, err
				}
			}
			return struct{}{}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
		fc := leech.fastCounts
		t.Logf("fast extension, received: %+v", fc)
		if fc.haveAllIn == 0 || fc.allowedFastIn == 0 || fc.rejectsIn == 0 || fc.blocksWhileChoked == 0 {
			t.Errorf("from the libtorrent seeder: %d HAVE_ALL, %d ALLOWED_FAST, %d REJECTs, %d blocks while choked; want each",
				fc.haveAllIn, fc.allowedFastIn, fc.rejectsIn, fc.blocksWhileChoked)
		}
	})
	t.Run("we seed", func(t *testing.T) {
		sw, torrentPath := bigSwarm(t, 16<<20)
		var seeder *Session
		_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
			var err error
			seeder, _, err = sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{MaxUploadRate: 4 << 20},
				SessionOptions{NoTrackers: true, Choke: ChokeConfig{Slots: 1, Interval: time.Second, OptimisticInterval: time.Second}})
			if err != nil {
				return struct{}{}, err
			}
			for i := 0; !seeder.Progress().Complete; i++ {
				if i == 1000 {
					return struct{}{}, fmt.Errorf("seeder: data not checked after 20 s")
				}
				if err := aio.Sleep(at, 20*time.Millisecond); err != nil {
					return struct{}{}, err
				}
			}
			var lts []*ltPeer
			for i := range 3 {
				lt := startLibtorrent(t, fmt.Sprintf("libtorrent leecher %d", i), torrentPath, t.TempDir(), interopTimeout,
					append(ltSettings, "--connect", seeder.client.Addr().String())...)
				if _, err := lt.ready(at); err != nil {
					return struct{}{}, err
				}
				lts = append(lts, lt)
			}
			for _, lt := range lts {
				if err := lt.done(at, interopTimeout); err != nil {
					return struct{}{}, fmt.Errorf("%w (our seeder: %+v, fast %+v)", err, seeder.Progress(), seeder.fastCounts)
				}
			}
			return struct{}{}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		fc := seeder.fastCounts
		t.Logf("fast extension, sent: %+v", fc)
		if fc.haveAllOut < 3 || fc.allowedFastOut < 3*allowedFastK {
			t.Errorf("to three libtorrent leechers: %d HAVE_ALL, %d ALLOWED_FAST; want 3 and %d", fc.haveAllOut, fc.allowedFastOut, 3*allowedFastK)
		}
		if fc.rejectsOut == 0 || fc.servedChoked == 0 {
			t.Errorf("%d REJECTs sent, %d blocks served while choking; want both (a choke rejects what is queued, allowed fast pieces are served)", fc.rejectsOut, fc.servedChoked)
		}
	})
}

// TestLibtorrentLSD, case 5: a libtorrent seeder and our client, neither
// with a tracker nor told of the other, find each other by local service
// discovery on 127.0.0.1 (BEP 14's real port, 6771, which libtorrent
// cannot be told to change: this test must not run in parallel with
// another on that port) and the download completes.
func TestLibtorrentLSD(t *testing.T) {
	needLibtorrent(t)
	sw, torrentPath := bigSwarm(t, 4<<20)
	dst := t.TempDir()
	var seeder *ltPeer
	var leech *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		seeder = startLibtorrent(t, "libtorrent seeder", torrentPath, sw.src, interopTimeout,
			append(ltSettings, "--seed", "--lsd", "--stay")...)
		seedAddr, err := seeder.ready(at)
		if err != nil {
			return struct{}{}, err
		}
		var h *aio.Handle[struct{}]
		leech, h, err = sw.nodeWith(at, "leecher", dst, false, ClientConfig{LSD: true, LSDConfig: lsd.Config{
			Interface: loopback.Addr(), NoIPv6: true, MinGap: lsd.MinGapFloor, Interval: lsd.MinGapFloor,
		}}, SessionOptions{NoTrackers: true})
		if err != nil {
			return struct{}{}, err
		}
		if _, err := aio.AwaitTimeout(at, h, interopTimeout); err != nil {
			return struct{}{}, fmt.Errorf("our download: %w (progress %+v, peers known %d)", err, leech.Progress(), leech.peerList.len())
		}
		if e := leech.peerList.entries[seedAddr]; e == nil {
			// libtorrent heard us first and dialled: fine, as long as it
			// says it found us by LSD.
			t.Logf("the seeder dialled us")
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(sw.src, "big.bin"), filepath.Join(dst, "big.bin"))
}
