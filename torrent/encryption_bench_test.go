package torrent

import (
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// BenchmarkEncryptedDownload: what RC4 costs. One payload (-lt.mib,
// default 1 GiB) is downloaded on loopback:
//   - by our leecher from our seeder, plain and then RC4 (both sides
//     --encryption disable, then require), with the CPU our process used
//     (both sides are in it);
//   - by our leecher over RC4 from a libtorrent seeder that forces RC4;
//   - by a libtorrent leecher over RC4 from the same libtorrent seeder,
//     the baseline in the same run.
//
// Each download is timed from the leecher's start to its last piece
// checked; the seeders have checked their data before.
//
//	go test -run '^$' -bench EncryptedDownload -benchtime 1x ./torrent [-args -lt.mib 256]
func BenchmarkEncryptedDownload(b *testing.B) {
	size := *ltBenchMiB << 20
	sw, torrentPath := bigSwarm(b, size)
	b.SetBytes(int64(size))
	ours := func(b *testing.B, seed, leech Encryption, from func(at *aio.Task) (netip.AddrPort, error)) {
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
				_, h, err := sw.nodeWith(at, "leecher", dst, false, ClientConfig{Encryption: leech},
					SessionOptions{NoTrackers: true, Peers: []netip.AddrPort{addr}})
				if err != nil {
					return struct{}{}, err
				}
				if _, err := aio.AwaitTimeout(at, h, 10*time.Minute); err != nil {
					return struct{}{}, err
				}
				wall, cpu = time.Since(start), cpuSeconds()-cpu0
				return struct{}{}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(wall.Seconds(), "s/download")
			b.ReportMetric(cpu, "cpu-s/download")
			b.Logf("%d MiB in %.2f s (%.0f MiB/s), %.2f CPU-s in this process", size>>20, wall.Seconds(), mibps(size, wall), cpu)
			os.RemoveAll(dst)
		}
	}
	ourSeed := func(enc Encryption) func(at *aio.Task) (netip.AddrPort, error) {
		return func(at *aio.Task) (netip.AddrPort, error) {
			s, _, err := sw.nodeWith(at, "seeder", sw.src, true, ClientConfig{Encryption: enc}, SessionOptions{NoTrackers: true})
			if err != nil {
				return netip.AddrPort{}, err
			}
			for !s.Progress().Complete {
				if err := aio.Sleep(at, 20*time.Millisecond); err != nil {
					return netip.AddrPort{}, err
				}
			}
			return s.client.Addr(), nil
		}
	}
	// TCP only: libtorrent dials uTP first, which is another issue's
	// subject (and far slower on loopback).
	tcpOnly := []string{"--set", "enable_outgoing_utp=false", "--set", "enable_incoming_utp=false"}
	ltSeed := func(at *aio.Task) (netip.AddrPort, error) {
		seeder := startLibtorrent(b, "libtorrent seeder", torrentPath, sw.src, 10*time.Minute,
			append(append([]string{"--seed", "--verify"}, tcpOnly...), ltForcedEncryption("2")...)...)
		return seeder.ready(at)
	}
	b.Run("ours=plain", func(b *testing.B) { ours(b, EncryptionDisable, EncryptionDisable, ourSeed(EncryptionDisable)) })
	b.Run("ours=rc4", func(b *testing.B) { ours(b, EncryptionRequire, EncryptionRequire, ourSeed(EncryptionRequire)) })
	b.Run("ours=rc4,from=libtorrent", func(b *testing.B) {
		needLibtorrent(b)
		ours(b, EncryptionRequire, EncryptionRequire, ltSeed)
	})
	b.Run("libtorrent=rc4,from=libtorrent", func(b *testing.B) {
		needLibtorrent(b)
		for range b.N {
			dst, err := os.MkdirTemp(b.TempDir(), "leech")
			if err != nil {
				b.Fatal(err)
			}
			_, err = aio.Run(func(at *aio.Task) (struct{}, error) {
				addr, err := ltSeed(at)
				if err != nil {
					return struct{}{}, err
				}
				lt := startLibtorrent(b, "libtorrent leecher", torrentPath, dst, 10*time.Minute,
					append(append(tcpOnly, ltForcedEncryption("2")...), "--connect", addr.String())...)
				if _, err := lt.ready(at); err != nil {
					return struct{}{}, err
				}
				start := time.Now()
				if err := lt.done(at, 10*time.Minute); err != nil {
					return struct{}{}, err
				}
				wall := time.Since(start)
				b.ReportMetric(wall.Seconds(), "s/download")
				b.Logf("%d MiB in %.2f s (%.0f MiB/s)", size>>20, wall.Seconds(), mibps(size, wall))
				return struct{}{}, nil
			})
			if err != nil {
				b.Fatal(err)
			}
			os.RemoveAll(dst)
		}
	})
}

// cpuSeconds is the CPU time (user + system) this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
