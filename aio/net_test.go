package aio_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

var loopback4 = netip.MustParseAddrPort("127.0.0.1:0")

// echo serves one connection: it copies what it reads back until EOF.
func echo(t *aio.Task, ln *aio.TCPListener) (int, error) {
	c, err := ln.Accept(t)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 4096)
	total := 0
	for {
		n, err := c.Read(t, buf)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		total += n
		if err := c.WriteAll(t, buf[:n]); err != nil {
			return total, err
		}
	}
}

func TestTCPEcho(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			payload := bytes.Repeat([]byte("0123456789abcdef"), 64*1024) // 1 MiB
			got, err := aio.Run(func(t *aio.Task) ([]byte, error) {
				ln, err := aio.ListenTCP(t, netip.MustParseAddrPort(addr))
				if err != nil {
					return nil, err
				}
				defer ln.Close()
				srv := aio.Spawn(t, "echo", func(t *aio.Task) (int, error) { return echo(t, ln) })
				c, err := aio.DialTCP(t, ln.Addr(), time.Second)
				if err != nil {
					return nil, err
				}
				defer c.Close()
				writer := aio.Spawn(t, "writer", func(t *aio.Task) (int, error) {
					_, err := c.Writev(t, [][]byte{payload[:10], payload[10:]})
					c.CloseWrite()
					return 0, err
				})
				back := make([]byte, len(payload))
				if err := c.ReadFull(t, back); err != nil {
					return nil, fmt.Errorf("ReadFull: %w", err)
				}
				if _, err := aio.Await(t, writer); err != nil {
					return nil, err
				}
				if n, err := aio.Await(t, srv); err != nil || n != len(payload) {
					return nil, fmt.Errorf("server echoed %d, %v", n, err)
				}
				return back, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("echo differs: got %d bytes, want %d", len(got), len(payload))
			}
		})
	}
}

func TestDialHostName(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		ln, err := aio.ListenTCP(t, loopback4)
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		aio.Spawn(t, "accept", func(t *aio.Task) (int, error) { return echo(t, ln) })
		c, err := aio.Dial(t, fmt.Sprintf("localhost:%d", ln.Addr().Port()), time.Second)
		if err != nil {
			return 0, err
		}
		return 0, c.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDialRefused(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		ln, err := aio.ListenTCP(t, loopback4)
		if err != nil {
			return 0, err
		}
		addr := ln.Addr()
		ln.Close() // nobody listens there now
		_, err = aio.DialTCP(t, addr, time.Second)
		return 0, err
	})
	if err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
}

func TestCloseWakesParkedReader(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		ln, err := aio.ListenTCP(t, loopback4)
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		c, err := aio.DialTCP(t, ln.Addr(), time.Second)
		if err != nil {
			return 0, err
		}
		reader := aio.Spawn(t, "reader", func(t *aio.Task) (int, error) {
			return c.Read(t, make([]byte, 10))
		})
		aio.Sleep(t, time.Millisecond)
		c.Close()
		_, err = aio.Await(t, reader)
		if !errors.Is(err, aio.ErrClosed) {
			return 0, fmt.Errorf("reader: got %v, want ErrClosed", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadDeadline(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		ln, err := aio.ListenTCP(t, loopback4)
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		c, err := aio.DialTCP(t, ln.Addr(), time.Second)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		c.SetDeadline(t.Loop().Now().Add(10 * time.Millisecond))
		_, err = c.Read(t, make([]byte, 1))
		if !errors.Is(err, aio.ErrTimeout) {
			return 0, fmt.Errorf("got %v, want ErrTimeout", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUDPRoundTrip(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		got, err := aio.Run(func(t *aio.Task) (string, error) {
			a, err := aio.ListenUDP(t, netip.MustParseAddrPort(addr))
			if err != nil {
				return "", err
			}
			defer a.Close()
			b, err := aio.ListenUDP(t, netip.MustParseAddrPort(addr))
			if err != nil {
				return "", err
			}
			defer b.Close()
			if _, err := a.WriteTo(t, []byte("ping"), b.LocalAddr()); err != nil {
				return "", err
			}
			buf := make([]byte, 64)
			n, from, err := b.ReadFrom(t, buf)
			if err != nil {
				return "", err
			}
			if from != a.LocalAddr() {
				return "", fmt.Errorf("from %v, want %v", from, a.LocalAddr())
			}
			return string(buf[:n]), nil
		})
		if err != nil || got != "ping" {
			t.Fatalf("%s: got %q, %v", addr, got, err)
		}
	}
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd on this system")
	}
	return len(entries)
}

// TestNoLeaks: after Run, no fd the loop opened and no goroutine it
// started (coroutines, executor workers, the signal goroutine) is left,
// even when tasks were still blocked in reads, sleeps and executor jobs at
// the end, and signals, the executor and Post were in use.
func TestNoLeaks(t *testing.T) {
	// os/signal starts a goroutine of its own, for the whole process, on
	// the first Notify: let it start before counting.
	signal.Stop(primeSignals())
	runtime.GC()
	fds, goroutines := openFDs(t), runtime.NumGoroutine()
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		if err := useSignalsAndPost(t); err != nil {
			return 0, err
		}
		ln, err := aio.ListenTCP(t, loopback4)
		if err != nil {
			return 0, err
		}
		c, err := aio.DialTCP(t, ln.Addr(), time.Second)
		if err != nil {
			return 0, err
		}
		aio.Spawn(t, "stuck reader", func(t *aio.Task) (int, error) { return c.Read(t, make([]byte, 1)) })
		aio.Spawn(t, "sleeper", func(t *aio.Task) (int, error) { return 0, aio.Sleep(t, time.Hour) })
		aio.Spawn(t, "accepter", func(t *aio.Task) (int, error) { return echo(t, ln) })
		aio.Submit(t, func() (int, error) { time.Sleep(5 * time.Millisecond); return 0, nil })
		return 0, aio.Sleep(t, time.Millisecond)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The loop's close joins the signal goroutine, so it is gone now, not
	// merely on its way out. (Goroutines that have returned can still be
	// counted for a moment, hence the wait below for the others.)
	if stacks := goroutineStacks(); strings.Contains(stacks, "aio.OnSignal") {
		t.Errorf("the signal goroutine outlived Run:\n%s", stacks)
	}
	if got := openFDs(t); got != fds {
		t.Errorf("open fds: %d after Run, %d before", got, fds)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // exited goroutines are reaped asynchronously
	}
	if got := runtime.NumGoroutine(); got > goroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d after Run, %d before\n%s", got, goroutines, buf[:runtime.Stack(buf, true)])
	}
}

// useSignalsAndPost starts a signal handler, delivers it a signal, and
// posts to the loop from an executor thread, leaving the handler for the
// loop's close to stop.
func useSignalsAndPost(t *aio.Task) error {
	l := t.Loop()
	got := aio.NewFuture[os.Signal](l)
	aio.OnSignal(l, func(s os.Signal) {
		if !got.Done() {
			got.Resolve(s)
		}
	}, syscall.SIGUSR1)
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		return err
	}
	if s, err := aio.AwaitTimeout(t, got, 5*time.Second); err != nil || s != syscall.SIGUSR1 {
		return fmt.Errorf("signal handler got %v, %v; want SIGUSR1", s, err)
	}
	posted := aio.NewFuture[int](l)
	if _, err := aio.Blocking(t, func() (int, error) { return 0, l.Post(func() { posted.Resolve(1) }) }); err != nil {
		return err
	}
	_, err := aio.AwaitTimeout(t, posted, 5*time.Second)
	return err
}

func primeSignals() chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR2)
	return ch
}

func goroutineStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func TestDualStackListenerUnmapsIPv4Peers(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		ln, err := aio.ListenTCP(t, netip.MustParseAddrPort("[::]:0"))
		if err != nil {
			return 0, nil // no IPv6 on this machine: nothing to test
		}
		defer ln.Close()
		accepted := aio.Spawn(t, "accept", func(t *aio.Task) (netip.AddrPort, error) {
			c, err := ln.Accept(t)
			if err != nil {
				return netip.AddrPort{}, err
			}
			defer c.Close()
			return c.RemoteAddr(), nil
		})
		c, err := aio.DialTCP(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ln.Addr().Port()), time.Second)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		remote, err := aio.Await(t, accepted)
		if err != nil {
			return 0, err
		}
		if !remote.Addr().Is4() || remote.Addr() != netip.MustParseAddr("127.0.0.1") {
			return 0, fmt.Errorf("accepted peer %v, want 127.0.0.1 unmapped", remote)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAcceptedAddrs: an accepted connection's remote address is the
// dialer's local one (accept4 decodes it without x/sys) and its local
// address, looked up on demand, is the listener's.
func TestAcceptedAddrs(t *testing.T) {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		ln, err := aio.ListenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		accepted := aio.Spawn(t, "accept", func(t *aio.Task) ([2]netip.AddrPort, error) {
			c, err := ln.Accept(t)
			if err != nil {
				return [2]netip.AddrPort{}, err
			}
			defer c.Close()
			return [2]netip.AddrPort{c.RemoteAddr(), c.LocalAddr()}, nil
		})
		c, err := aio.DialTCP(t, ln.Addr(), time.Second)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		got, err := aio.Await(t, accepted)
		if err != nil {
			return 0, err
		}
		if got[0] != c.LocalAddr() || got[1] != ln.Addr() {
			return 0, fmt.Errorf("accepted remote %v, local %v; want %v, %v", got[0], got[1], c.LocalAddr(), ln.Addr())
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
