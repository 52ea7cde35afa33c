package aio_test

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// An echo server and its client on one loop thread. The server task
// accepts one connection and sends back what it reads until the client
// closes its side; the client writes lines, reads each echo, then half-
// closes and reads the server's EOF. Every call that can wait takes the
// task, so the two tasks take turns on the thread without any locks.
func ExampleListenTCP() {
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		ln, err := aio.ListenTCP(t, netip.MustParseAddrPort("127.0.0.1:0")) // port 0: any free port
		if err != nil {
			return struct{}{}, err
		}
		defer ln.Close()

		g := aio.NewGroup(t)
		g.Go("echo server", func(t *aio.Task) error {
			c, err := ln.Accept(t)
			if err != nil {
				return err
			}
			defer c.Close()
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(t, buf)
				if errors.Is(err, io.EOF) {
					fmt.Println("server: client closed, done")
					return nil
				}
				if err != nil {
					return err
				}
				if err := c.WriteAll(t, buf[:n]); err != nil {
					return err
				}
			}
		})
		g.Go("client", func(t *aio.Task) error {
			c, err := aio.DialTCP(t, ln.Addr(), time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			for _, line := range []string{"hello", "event loop"} {
				if err := c.WriteAll(t, []byte(line)); err != nil {
					return err
				}
				echo := make([]byte, len(line))
				if err := c.ReadFull(t, echo); err != nil {
					return err
				}
				fmt.Printf("client: sent %q, got %q\n", line, echo)
			}
			return c.CloseWrite() // the server reads EOF and returns
		})
		return struct{}{}, g.Wait(t)
	})
	if err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// client: sent "hello", got "hello"
	// client: sent "event loop", got "event loop"
	// server: client closed, done
}

// A producer and a consumer handing work over a Queue. The queue holds two
// items, so the producer parks in Put whenever it is two ahead: the queue
// is also the back-pressure. Close tells the consumer there is no more;
// Get drains what is left and then returns ErrClosed.
func ExampleQueue() {
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		q := aio.NewQueue[string](2)
		g := aio.NewGroup(t)
		g.Go("producer", func(t *aio.Task) error {
			defer q.Close()
			for _, piece := range []string{"piece 0", "piece 1", "piece 2", "piece 3", "piece 4"} {
				if err := q.Put(t, piece); err != nil {
					return err
				}
			}
			return nil
		})
		g.Go("consumer", func(t *aio.Task) error {
			var got []string
			for {
				piece, err := q.Get(t)
				if errors.Is(err, aio.ErrClosed) {
					fmt.Printf("consumer: queue closed after %d items\n", len(got))
					return nil
				}
				if err != nil {
					return err
				}
				got = append(got, piece)
				fmt.Printf("consumer: %s (%d still queued)\n", piece, q.Len())
			}
		})
		return struct{}{}, g.Wait(t)
	})
	if err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// consumer: piece 0 (1 still queued)
	// consumer: piece 1 (0 still queued)
	// consumer: piece 2 (1 still queued)
	// consumer: piece 3 (0 still queued)
	// consumer: piece 4 (0 still queued)
	// consumer: queue closed after 5 items
}

// A timeout. WaitFor runs the function on the calling task with a
// deadline (no task is spawned for it); when the time is up, the wait in
// progress returns ErrTimeout, and so does every later one inside the
// function, which cleans up with defer and returns. The loop runs on
// virtual time (WithVirtualTime), so the hour-long sleep takes no real
// time and the timings print exactly.
func ExampleWaitFor() {
	announce := func(d time.Duration) func(t *aio.Task) (string, error) {
		return func(t *aio.Task) (string, error) {
			defer fmt.Printf("  announce (%v): cleaned up\n", d)
			if err := aio.Sleep(t, d); err != nil {
				fmt.Printf("  announce (%v): %v\n", d, err)
				return "", err
			}
			return "3 peers", nil
		}
	}
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		for _, d := range []time.Duration{30 * time.Millisecond, time.Hour} {
			start := t.Loop().Now()
			peers, err := aio.WaitFor(t, 100*time.Millisecond, announce(d))
			elapsed := t.Loop().Now().Sub(start)
			switch {
			case errors.Is(err, aio.ErrTimeout):
				fmt.Printf("timed out after %v\n", elapsed)
			case err != nil:
				return struct{}{}, err
			default:
				fmt.Printf("got %q after %v\n", peers, elapsed)
			}
		}
		return struct{}{}, nil
	}, aio.WithVirtualTime())
	if err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	//   announce (30ms): cleaned up
	// got "3 peers" after 30ms
	//   announce (1h0m0s): aio: timeout
	//   announce (1h0m0s): cleaned up
	// timed out after 100ms
}
