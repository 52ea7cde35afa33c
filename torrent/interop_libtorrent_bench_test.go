package torrent

import (
	"flag"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

var ltBenchMiB = flag.Int("lt.mib", 1024, "payload of BenchmarkLibtorrentLeech, in MiB")

// BenchmarkLibtorrentLeech: one libtorrent leecher (max_out_request_queue
// 1500, as in its high performance preset) downloads the same payload
// from our seeding Session and from a libtorrent seeder, in one run, on
// loopback. A download is timed from the leecher's READY (its torrent
// added, before it dials) to its DONE (every piece checked and written);
// the ratio is ours over libtorrent's time. Both seeders have checked
// their data before the leecher starts. docs/performance.md has the
// figures.
//
//	go test -run '^$' -bench LibtorrentLeech -benchtime 1x ./torrent [-args -lt.mib 256]
func BenchmarkLibtorrentLeech(b *testing.B) {
	needLibtorrent(b)
	size := *ltBenchMiB << 20
	sw, torrentPath := bigSwarm(b, size)
	leech := func(b *testing.B, seed func(at *aio.Task) (netip.AddrPort, error)) time.Duration {
		b.SetBytes(int64(size))
		var total time.Duration
		for range b.N {
			b.StopTimer() // timed: READY to DONE
			dst, err := os.MkdirTemp(b.TempDir(), "leech")
			if err != nil {
				b.Fatal(err)
			}
			_, err = aio.Run(func(at *aio.Task) (struct{}, error) {
				addr, err := seed(at)
				if err != nil {
					return struct{}{}, err
				}
				lt := startLibtorrent(b, "libtorrent leecher", torrentPath, dst, 10*time.Minute,
					append(ltSettings, "--set", "max_out_request_queue=1500", "--connect", addr.String())...)
				if _, err := lt.ready(at); err != nil {
					return struct{}{}, err
				}
				start := time.Now()
				b.StartTimer()
				if err := lt.done(at, 10*time.Minute); err != nil {
					return struct{}{}, err
				}
				b.StopTimer()
				total += time.Since(start)
				return struct{}{}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			os.RemoveAll(dst) // 1 GiB a round
		}
		return total / time.Duration(b.N)
	}
	var ours, theirs time.Duration
	b.Run("from=aiotorrent", func(b *testing.B) {
		ours = leech(b, func(at *aio.Task) (netip.AddrPort, error) {
			_, addr, err := ourSeeder(at, sw)
			return addr, err
		})
	})
	b.Run("from=libtorrent", func(b *testing.B) {
		theirs = leech(b, func(at *aio.Task) (netip.AddrPort, error) {
			seeder := startLibtorrent(b, "libtorrent seeder", torrentPath, sw.src, 10*time.Minute,
				// --verify: checked before READY, as ours is, rather than
				// hashing each piece on its first request (seed mode).
				append(ltSettings, "--seed", "--verify")...)
			return seeder.ready(at)
		})
	})
	if ours > 0 && theirs > 0 {
		b.Logf("%d MiB to a libtorrent leecher: aiotorrent %.2f s (%.0f MiB/s), libtorrent %.2f s (%.0f MiB/s), ratio %.2f",
			size>>20, ours.Seconds(), mibps(size, ours), theirs.Seconds(), mibps(size, theirs), ours.Seconds()/theirs.Seconds())
	}
}

func mibps(size int, d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
