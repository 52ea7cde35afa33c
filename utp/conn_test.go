package utp

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

var loopback = netip.MustParseAddrPort("127.0.0.1:0")

// runLoop runs fn as a loop's main task and fails the test on its error.
func runLoop(tb testing.TB, fn func(t *aio.Task) error, opts ...aio.Option) {
	tb.Helper()
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) { return struct{}{}, fn(t) }, opts...)
	if err != nil {
		tb.Fatal(err)
	}
}

func pattern(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeAll writes data in uneven chunks, then closes the connection.
func writeAll(t *aio.Task, c *Conn, data []byte) error {
	for off := 0; off < len(data); {
		n := min(len(data)-off, 1+(off*7919)%70000)
		if _, err := c.Writev(t, [][]byte{data[off : off+n]}); err != nil {
			return fmt.Errorf("write at %d: %w", off, err)
		}
		off += n
	}
	return nil
}

// exchange sends a→b and b→a at once, then checks both byte for byte.
func exchange(t *aio.Task, a, b *Conn, size int) error {
	ab, ba := pattern(size, 1), pattern(size, 2)
	g := aio.NewGroup(t)
	var gotAB, gotBA []byte
	g.Go("a-write", func(t *aio.Task) error { return writeAll(t, a, ab) })
	g.Go("b-write", func(t *aio.Task) error { return writeAll(t, b, ba) })
	g.Go("b-read", func(t *aio.Task) (err error) { gotAB, err = readUntil(t, b, size); return err })
	g.Go("a-read", func(t *aio.Task) (err error) { gotBA, err = readUntil(t, a, size); return err })
	if err := g.Wait(t); err != nil {
		return err
	}
	if !bytes.Equal(gotAB, ab) {
		return fmt.Errorf("a→b: got %d bytes, want %d, first difference at %d", len(gotAB), len(ab), firstDiff(gotAB, ab))
	}
	if !bytes.Equal(gotBA, ba) {
		return fmt.Errorf("b→a: got %d bytes, want %d, first difference at %d", len(gotBA), len(ba), firstDiff(gotBA, ba))
	}
	return nil
}

// readUntil reads exactly n bytes.
func readUntil(t *aio.Task, c *Conn, n int) ([]byte, error) {
	got := make([]byte, n)
	for off := 0; off < n; {
		k, err := c.Read(t, got[off:])
		off += k
		if err != nil {
			return got[:off], fmt.Errorf("read after %d of %d bytes: %w", off, n, err)
		}
	}
	return got, nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// dialAccept connects a Conn on sa to one on sb.
func dialAccept(t *aio.Task, sa, sb *Socket, to netip.AddrPort) (*Conn, *Conn, error) {
	acc := aio.Spawn(t, "accept", func(t *aio.Task) (*Conn, error) { return sb.Accept(t) })
	a, err := sa.Dial(t, to)
	if err != nil {
		return nil, nil, err
	}
	// The acceptor sees the connection once the dialer speaks.
	if _, err := a.Write(t, []byte("hi")); err != nil {
		return nil, nil, err
	}
	b, err := aio.Await(t, acc)
	if err != nil {
		return nil, nil, err
	}
	got, err := readUntil(t, b, 2)
	if err != nil || string(got) != "hi" {
		return nil, nil, fmt.Errorf("first bytes: got %q, %v", got, err)
	}
	return a, b, nil
}

func TestLoopback8MiBEachWay(t *testing.T) {
	runLoop(t, func(t *aio.Task) error {
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
		a, b, err := dialAccept(t, sa, sb, sb.Addr())
		if err != nil {
			return err
		}
		if err := exchange(t, a, b, 8<<20); err != nil {
			return err
		}
		if a.RemoteAddr() != sb.Addr() {
			return fmt.Errorf("RemoteAddr: got %v, want %v", a.RemoteAddr(), sb.Addr())
		}
		return nil
	})
}
