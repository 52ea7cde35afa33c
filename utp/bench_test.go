package utp

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

// stream is what both benchmarks push bytes through.
type stream interface {
	Read(t *aio.Task, p []byte) (int, error)
	Writev(t *aio.Task, bufs [][]byte) (int, error)
}

const benchChunk = 64 << 10

// pump writes n chunks into w while a second task reads them from r.
func pump(t *aio.Task, w, r stream, n int) error {
	total := n * benchChunk
	g := aio.NewGroup(t)
	g.Go("write", func(t *aio.Task) error {
		buf := make([]byte, benchChunk)
		for range n {
			if _, err := w.Writev(t, [][]byte{buf}); err != nil {
				return err
			}
		}
		return nil
	})
	g.Go("read", func(t *aio.Task) error {
		buf := make([]byte, benchChunk)
		for got := 0; got < total; {
			k, err := r.Read(t, buf)
			if err != nil {
				return fmt.Errorf("read after %d of %d: %w", got, total, err)
			}
			got += k
		}
		return nil
	})
	return g.Wait(t)
}

// BenchmarkStream compares one uTP stream with one TCP stream over
// loopback in the same run: bytes per second, and for uTP the heap
// allocations per datagram (both directions, data and acks).
func BenchmarkStream(b *testing.B) {
	b.Run("utp", func(b *testing.B) {
		runLoop(b, func(t *aio.Task) error {
			sa, err := Listen(t, loopback, Config{})
			if err != nil {
				return err
			}
			defer sa.Close()
			sb, err := Listen(t, loopback, Config{})
			if err != nil {
				return err
			}
			defer sb.Close()
			a, c, err := dialAccept(t, sa, sb, sb.Addr())
			if err != nil {
				return err
			}
			b.SetBytes(benchChunk)
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			sent := sa.Stats().Sent + sb.Stats().Sent
			b.ResetTimer()
			if err := pump(t, a, c, b.N); err != nil {
				return err
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			packets := sa.Stats().Sent + sb.Stats().Sent - sent
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(packets), "allocs/datagram")
			b.ReportMetric(float64(sa.Stats().Retransmits), "retransmits")
			return nil
		})
	})
	b.Run("tcp", func(b *testing.B) {
		runLoop(b, func(t *aio.Task) error {
			ln, err := aio.ListenTCP(t, loopback)
			if err != nil {
				return err
			}
			defer ln.Close()
			acc := aio.Spawn(t, "accept", func(t *aio.Task) (*aio.TCPConn, error) { return ln.Accept(t) })
			a, err := aio.DialTCP(t, ln.Addr(), 0)
			if err != nil {
				return err
			}
			defer a.Close()
			c, err := aio.Await(t, acc)
			if err != nil {
				return err
			}
			defer c.Close()
			b.SetBytes(benchChunk)
			b.ReportAllocs()
			b.ResetTimer()
			return pump(t, a, c, b.N)
		})
	})
}
