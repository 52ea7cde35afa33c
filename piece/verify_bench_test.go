package piece

import (
	"crypto/sha1"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// The ratio that matters is BenchmarkVerify's MB/s over BenchmarkSHA1's
// times the cores (or over BenchmarkSHA1Parallel, which measures that
// product on the machine as it is at the moment): the target is 80%.

const benchPiece = 256 * kib

// BenchmarkVerify checks 256 MiB in four files, page-cached, with Check on
// a loop whose executor has one worker per CPU. After each pass, untimed,
// it hashes the same bytes from memory on every CPU at once, and reports
// Check's speed as a share of that (pct-of-sha1): measured side by side,
// the share holds even when other work on the machine makes the MB/s
// figures swing.
func BenchmarkVerify(b *testing.B) {
	const total = 256 << 20
	l := Layout{PieceLength: benchPiece, Length: total,
		Files: files("v/a", total/4, "v/b", total/4, "v/c", total/4, "v/d", total/4)}
	data := testData(total, 5)
	s, err := OpenStorage(b.TempDir(), hashed(l, data), StorageOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	writeAll(b, s, data)
	b.SetBytes(total)
	var checking, hashing time.Duration
	b.ResetTimer()
	// One loop for all passes, as in a session: the loop's start and
	// shutdown are not part of checking.
	_, err = aio.Run(func(t *aio.Task) (struct{}, error) {
		for range b.N {
			t0 := time.Now()
			have, err := Check(t, s, nil)
			checking += time.Since(t0)
			if err != nil {
				return struct{}{}, err
			}
			if !have.Full() {
				b.Fatalf("Check found %d of %d pieces", have.Count(), have.Len())
			}
			b.StopTimer()
			hashing += sha1AllCores(data, benchPiece)
			b.StartTimer()
		}
		return struct{}{}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(100*hashing.Seconds()/checking.Seconds(), "pct-of-sha1")
}

// sha1AllCores hashes data in pieces on one goroutine per CPU and returns
// the wall time: the ceiling for checking.
func sha1AllCores(data []byte, piece int) time.Duration {
	n := runtime.GOMAXPROCS(0)
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := w * piece; off < len(data); off += n * piece {
				sha1.Sum(data[off:min(off+piece, len(data))])
			}
		}()
	}
	wg.Wait()
	return time.Since(t0)
}

// BenchmarkSHA1 is one core's SHA-1 speed over piece-sized buffers.
func BenchmarkSHA1(b *testing.B) {
	buf := testData(benchPiece, 6)
	b.SetBytes(benchPiece)
	for range b.N {
		sha1.Sum(buf)
	}
}

// BenchmarkSHA1Parallel is SHA-1 on every core at once: the ceiling for
// BenchmarkVerify.
func BenchmarkSHA1Parallel(b *testing.B) {
	b.SetBytes(benchPiece)
	b.RunParallel(func(pb *testing.PB) {
		buf := testData(benchPiece, 6)
		for pb.Next() {
			sha1.Sum(buf)
		}
	})
}
