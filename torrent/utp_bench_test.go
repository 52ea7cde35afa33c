package torrent

import (
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// BenchmarkUTPDownload: what uTP costs against TCP between whole
// clients. One payload (-lt.mib, default 1 GiB) is downloaded on loopback:
//   - by our leecher from our seeder over TCP (the baseline) and over uTP,
//     with the CPU our process used (both sides are in it);
//   - by our leecher over uTP from a libtorrent seeder that speaks no TCP,
//     with our leecher's CPU;
//   - by a uTP-only libtorrent leecher from our seeder, with our seeder's
//     CPU;
//   - by a uTP-only libtorrent leecher from the same libtorrent seeder,
//     the baseline in the same run.
//
// Our downloads are timed from the leecher's start to its last piece
// checked, libtorrent's from its READY to its DONE; the seeders have
// checked their data before. Our leecher fails the run if a piece is
// checked while a connection of the other transport is up.
//
//	go test -run '^$' -bench UTPDownload -benchtime 1x ./torrent [-args -lt.mib 256]
func BenchmarkUTPDownload(b *testing.B) {
	size := *ltBenchMiB << 20
	sw, torrentPath := bigSwarm(b, size)
	b.SetBytes(int64(size))
	// report logs the rate and the CPU this process used, whose work
	// that was (who), or none when it held neither peer (who "").
	report := func(b *testing.B, wall time.Duration, cpu float64, who string) {
		b.ReportMetric(wall.Seconds(), "s/download")
		if who == "" {
			b.Logf("%d MiB in %.2f s (%.0f MiB/s)", size>>20, wall.Seconds(), mibps(size, wall))
			return
		}
		b.ReportMetric(cpu, "cpu-s/download")
		b.Logf("%d MiB in %.2f s (%.0f MiB/s), %.2f CPU-s in this process (%s)",
			size>>20, wall.Seconds(), mibps(size, wall), cpu, who)
	}
	ours := func(b *testing.B, overUTP bool, from func(at *aio.Task) (netip.AddrPort, error), who string) {
		for range b.N {
			dst, err := os.MkdirTemp(b.TempDir(), "leech")
			if err != nil {
				b.Fatal(err)
			}
			var wall time.Duration
			var cpu float64
			_, err = aio.Run(func(at *aio.Task) (struct{}, error) {
				addr, err := from(at)
				if err != nil {
					return struct{}{}, err
				}
				start, cpu0 := time.Now(), cpuSeconds()
				l, h, err := sw.nodeWith(at, "leecher", dst, false, ClientConfig{NoUTP: !overUTP},
					SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{addr}})
				if err != nil {
					return struct{}{}, err
				}
				if overUTP {
					// What a PEX flag or an earlier uTP connection would
					// have said; the session has not run yet.
					l.peerList.add(addr, fromUser)
					l.peerList.setUTP(addr, true)
				}
				wrong := 0
				l.onVerify = func(int) {
					for _, p := range l.peers {
						if p.utp != overUTP {
							wrong++
						}
					}
				}
				if _, err := aio.AwaitTimeout(at, h, 10*time.Minute); err != nil {
					return struct{}{}, err
				}
				wall, cpu = time.Since(start), cpuSeconds()-cpu0
				if wrong > 0 {
					return struct{}{}, fmt.Errorf("%d pieces checked with a connection over the other transport up (want uTP %v)", wrong, overUTP)
				}
				return struct{}{}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			report(b, wall, cpu, who)
			os.RemoveAll(dst)
		}
	}
	ourSeed := func(at *aio.Task) (netip.AddrPort, error) {
		_, addr, err := ourSeeder(at, sw)
		return addr, err
	}
	ltSeed := func(at *aio.Task) (netip.AddrPort, error) {
		seeder := startLibtorrent(b, "libtorrent seeder", torrentPath, sw.src, 10*time.Minute,
			append([]string{"--seed", "--verify"}, ltUTPOnly...)...)
		return seeder.ready(at)
	}
	// ltLeech times a uTP-only libtorrent leecher from the seeder that
	// from starts; who is as report's.
	ltLeech := func(b *testing.B, from func(at *aio.Task) (netip.AddrPort, error), who string) {
		needLibtorrent(b)
		for range b.N {
			dst, err := os.MkdirTemp(b.TempDir(), "leech")
			if err != nil {
				b.Fatal(err)
			}
			_, err = aio.Run(func(at *aio.Task) (struct{}, error) {
				addr, err := from(at)
				if err != nil {
					return struct{}{}, err
				}
				lt := startLibtorrent(b, "libtorrent leecher", torrentPath, dst, 10*time.Minute,
					append(append([]string{}, ltUTPOnly...), "--connect", addr.String())...)
				if _, err := lt.ready(at); err != nil {
					return struct{}{}, err
				}
				start, cpu0 := time.Now(), cpuSeconds()
				if err := lt.done(at, 10*time.Minute); err != nil {
					return struct{}{}, err
				}
				report(b, time.Since(start), cpuSeconds()-cpu0, who)
				return struct{}{}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			os.RemoveAll(dst)
		}
	}
	b.Run("ours=tcp", func(b *testing.B) { ours(b, false, ourSeed, "both sides") })
	b.Run("ours=utp", func(b *testing.B) { ours(b, true, ourSeed, "both sides") })
	b.Run("ours=utp,from=libtorrent", func(b *testing.B) {
		needLibtorrent(b)
		ours(b, true, ltSeed, "our leecher")
	})
	b.Run("libtorrent=utp,from=us", func(b *testing.B) { ltLeech(b, ourSeed, "our seeder") })
	b.Run("libtorrent=utp,from=libtorrent", func(b *testing.B) { ltLeech(b, ltSeed, "") })
}
