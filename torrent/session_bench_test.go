package torrent

import (
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// benchSwarm starts a seeder for a fresh single-file payload of size bytes
// and waits until it has checked its data.
func benchSwarm(b *testing.B, at *aio.Task, size int, seederCfg ClientConfig) (*swarm, *Session, error) {
	sw, err := newSwarm(b, at, map[string]int{"payload.bin": size}, 256<<10)
	if err != nil {
		return nil, nil, err
	}
	seeder, _, err := sw.nodeWith(at, "seeder", sw.src, true, seederCfg, SessionOptions{NoTrackers: true})
	if err != nil {
		return nil, nil, err
	}
	if err := seeder.complete.Wait(at); err != nil {
		return nil, nil, err
	}
	return sw, seeder, nil
}

// leecherOf starts a leecher that connects to the seeder only.
func leecherOf(b *testing.B, at *aio.Task, sw *swarm, seeder *Session, cfg ClientConfig) (*Session, *aio.Handle[struct{}], error) {
	return sw.nodeWith(at, "leecher", b.TempDir(), false, cfg, SessionOptions{
		NoTrackers: true, Peers: []netip.AddrPort{seeder.client.Addr()},
	})
}

// BenchmarkRateLimit measures the rate a limit achieves over 10 s (after
// 1 s of warm-up), for the upload limit on a seeder and the download
// limit on a leecher, and fails beyond ±10%. It reports the achieved rate
// (B/s) and its ratio to the limit (x-limit).
func BenchmarkRateLimit(b *testing.B) {
	const limit = 4 << 20
	const window = 10 * time.Second
	cases := []struct {
		name            string
		seeder, leecher ClientConfig
	}{
		{"upload", ClientConfig{MaxUploadRate: limit}, ClientConfig{}},
		{"download", ClientConfig{}, ClientConfig{MaxDownloadRate: limit}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				got := measureLimitedRate(b, tc.seeder, tc.leecher, limit*14, window)
				b.ReportMetric(got, "B/s")
				b.ReportMetric(got/limit, "x-limit")
				if got < 0.9*limit || got > 1.1*limit {
					b.Errorf("achieved %.0f B/s over %v with a limit of %d: off by more than 10%%", got, window, limit)
				}
			}
		})
	}
}

func measureLimitedRate(b *testing.B, seederCfg, leecherCfg ClientConfig, size int, window time.Duration) float64 {
	var rate float64
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, seeder, err := benchSwarm(b, at, size, seederCfg)
		if err != nil {
			return struct{}{}, err
		}
		leech, _, err := leecherOf(b, at, sw, seeder, leecherCfg)
		if err != nil {
			return struct{}{}, err
		}
		for leech.downloaded == 0 {
			if err := aio.Sleep(at, 10*time.Millisecond); err != nil {
				return struct{}{}, err
			}
		}
		if err := aio.Sleep(at, time.Second); err != nil {
			return struct{}{}, err
		}
		d0, t0 := leech.downloaded, at.Loop().Now()
		if err := aio.Sleep(at, window); err != nil {
			return struct{}{}, err
		}
		d1, t1 := leech.downloaded, at.Loop().Now()
		if leech.picker.Complete() {
			return struct{}{}, fmt.Errorf("the download finished within the window: payload too small")
		}
		rate = float64(d1-d0) / t1.Sub(t0).Seconds()
		return struct{}{}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return rate
}

// BenchmarkSeedUpload measures how fast one seeder serves one leecher on
// loopback, both in this process on one loop: MB/s of payload, the read
// cache's hit ratio, and the process CPU seconds per GiB (both sides:
// the leecher's SHA-1 and writes included).
func BenchmarkSeedUpload(b *testing.B) {
	const size = 64 << 20
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, seeder, err := benchSwarm(b, at, size, ClientConfig{})
		if err != nil {
			return struct{}{}, err
		}
		b.SetBytes(size)
		cpu0 := cpuTime()
		b.ResetTimer()
		for range b.N {
			_, h, err := leecherOf(b, at, sw, seeder, ClientConfig{})
			if err != nil {
				return struct{}{}, err
			}
			if _, err := aio.AwaitTimeout(at, h, 5*time.Minute); err != nil {
				return struct{}{}, err
			}
		}
		b.StopTimer()
		c := &seeder.cache
		b.ReportMetric(float64(c.hits)/float64(max(1, c.hits+c.misses)), "cache-hit")
		b.ReportMetric((cpuTime()-cpu0).Seconds()/(float64(b.N)*size/(1<<30)), "cpu-s/GiB")
		return struct{}{}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
