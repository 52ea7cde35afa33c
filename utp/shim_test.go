package utp

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// shim is a lossy network path in the process: a Transport that drops,
// duplicates and delays datagrams (a random delay per datagram reorders
// them), then hands them to the Socket at the other end. With the loop's
// virtual clock a 200 ms path costs no real time. This kernel has no
// netem; this is its stand-in.
type shim struct {
	loop   *aio.Loop
	rng    *rand.Rand
	path   path
	from   netip.AddrPort
	to     *Socket
	sent   int
	drops  int
	mangle func(p []byte) // optional: rewrite a datagram in flight
}

type path struct {
	loss, dup     float64
	delay, jitter time.Duration
}

func (s *shim) SendTo(p []byte, _ netip.AddrPort) error {
	s.sent++
	if s.rng.Float64() < s.path.loss {
		s.drops++
		return nil
	}
	copies := 1
	if s.rng.Float64() < s.path.dup {
		copies = 2
	}
	for range copies {
		b := append([]byte(nil), p...)
		if s.mangle != nil {
			s.mangle(b)
		}
		d := s.path.delay
		if s.path.jitter > 0 {
			d += time.Duration(s.rng.Int64N(int64(s.path.jitter)))
		}
		s.loop.AfterFunc(d, func() {
			s.to.Receive(b, s.from)
			s.to.Flush()
		})
	}
	return nil
}

var (
	addrA = netip.MustParseAddrPort("10.0.0.1:6881")
	addrB = netip.MustParseAddrPort("10.0.0.2:6881")
)

// shimPair makes two Sockets joined by a shim each way.
func shimPair(l *aio.Loop, p path, seed uint64) (sa, sb *Socket, ab, ba *shim) {
	ab = &shim{loop: l, rng: rand.New(rand.NewPCG(seed, 1)), path: p, from: addrA}
	ba = &shim{loop: l, rng: rand.New(rand.NewPCG(seed, 2)), path: p, from: addrB}
	sa, sb = NewSocket(l, ab, Config{}), NewSocket(l, ba, Config{})
	ab.to, ba.to = sb, sa
	return sa, sb, ab, ba
}

func TestLossyPathDeliversEveryByteInOrder(t *testing.T) {
	cases := []struct {
		name string
		path path
		size int
	}{
		{"1%-loss-50ms", path{loss: 0.01, dup: 0.01, delay: 50 * time.Millisecond, jitter: 5 * time.Millisecond}, 2 << 20},
		{"5%-loss-100ms-reorder", path{loss: 0.05, dup: 0.02, delay: 100 * time.Millisecond, jitter: 50 * time.Millisecond}, 1 << 20},
		{"20%-loss-200ms", path{loss: 0.20, dup: 0.05, delay: 200 * time.Millisecond, jitter: 20 * time.Millisecond}, 256 << 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runLoop(t, func(t *aio.Task) error {
				sa, sb, ab, ba := shimPair(t.Loop(), tc.path, 7)
				defer sa.Close()
				defer sb.Close()
				// Virtual time: a stall shows up as this deadline, not a hang.
				err := aio.Timeout(t, time.Hour, func(t *aio.Task) error {
					a, b, err := dialAccept(t, sa, sb, addrB)
					if err != nil {
						return err
					}
					if err := exchange(t, a, b, tc.size); err != nil {
						return err
					}
					a.Close()
					var one [1]byte
					if n, err := b.Read(t, one[:]); n != 0 || !errors.Is(err, io.EOF) {
						return fmt.Errorf("read after the peer's Close: got %d, %v, want 0, EOF", n, err)
					}
					return nil
				})
				if err != nil {
					return fmt.Errorf("%w (datagrams %d+%d, dropped %d+%d)", err, ab.sent, ba.sent, ab.drops, ba.drops)
				}
				if ab.drops == 0 || ba.drops == 0 {
					return fmt.Errorf("the shim dropped nothing (%d, %d): the case tests no loss", ab.drops, ba.drops)
				}
				return nil
			}, aio.WithVirtualTime())
		})
	}
}
