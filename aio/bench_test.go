package aio_test

import (
	"fmt"
	"io"
	"iter"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

func runB(b *testing.B, fn func(t *aio.Task) error) {
	b.Helper()
	if _, err := aio.Run(func(t *aio.Task) (int, error) { return 0, fn(t) }); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTaskSwitch: a task yields to the loop and is resumed, asyncio's
// sleep(0) round trip; ns/op is per yield. With one task every yield also
// pays for a whole loop step; with 100 the step is shared by 100 switches,
// which is the case of a busy client.
func BenchmarkTaskSwitch(b *testing.B) {
	// The floor: the runtime's coroutine switch alone (iter.Pull's next
	// and yield, on a locked thread as on the loop), with no loop at all.
	b.Run("baseline=iter.Pull", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		next, stop := iter.Pull(func(yield func(struct{}) bool) {
			for yield(struct{}{}) {
			}
		})
		defer stop()
		for range b.N {
			next()
		}
	})
	for _, tasks := range []int{1, 100} {
		b.Run(fmt.Sprintf("tasks=%d", tasks), func(b *testing.B) {
			runB(b, func(t *aio.Task) error {
				g := aio.NewGroup(t)
				b.ResetTimer()
				for i := range tasks {
					n := b.N / tasks
					if i < b.N%tasks {
						n++
					}
					g.Go("yielder", func(t *aio.Task) error {
						for range n {
							if err := aio.Yield(t); err != nil {
								return err
							}
						}
						return nil
					})
				}
				return g.Wait(t)
			})
		})
	}
}

// BenchmarkSpawn: create a task, run it, finish it, and collect its result.
func BenchmarkSpawn(b *testing.B) {
	b.ReportAllocs()
	runB(b, func(t *aio.Task) error {
		b.ResetTimer()
		for range b.N {
			h := aio.Spawn(t, "child", func(t *aio.Task) (int, error) { return 1, nil })
			if _, err := aio.Await(t, h); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkTimers: 100,000 tasks sleeping at once, each with its own
// deadline; ns/op is per sleeping task (arm, fire, resume).
func BenchmarkTimers(b *testing.B) {
	const n = 100_000
	runB(b, func(t *aio.Task) error {
		b.ResetTimer()
		for range b.N {
			g := aio.NewGroup(t)
			for i := range n {
				g.Go("sleeper", func(t *aio.Task) error {
					return aio.Sleep(t, time.Duration(i%1000)*time.Microsecond)
				})
			}
			if err := g.Wait(t); err != nil {
				return err
			}
		}
		return nil
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
}

// BenchmarkQueue: one producer and one consumer task; ns/op per item.
func BenchmarkQueue(b *testing.B) {
	runB(b, func(t *aio.Task) error {
		q := aio.NewQueue[int](64)
		b.ResetTimer()
		prod := aio.Spawn(t, "producer", func(t *aio.Task) (int, error) {
			for i := range b.N {
				if err := q.Put(t, i); err != nil {
					return 0, err
				}
			}
			return 0, nil
		})
		for range b.N {
			if _, err := q.Get(t); err != nil {
				return err
			}
		}
		_, err := aio.Await(t, prod)
		return err
	})
}

const streamChunk = 256 << 10

// BenchmarkTCPStream: one loopback TCP stream, through aio and through
// Go's net package, in the same benchmark so the two can be compared.
func BenchmarkTCPStream(b *testing.B) {
	b.Run("aio", func(b *testing.B) {
		b.SetBytes(streamChunk)
		runB(b, func(t *aio.Task) error {
			ln, err := aio.ListenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
			if err != nil {
				return err
			}
			defer ln.Close()
			sink := aio.Spawn(t, "sink", func(t *aio.Task) (int, error) {
				c, err := ln.Accept(t)
				if err != nil {
					return 0, err
				}
				defer c.Close()
				buf := make([]byte, streamChunk)
				for {
					if _, err := c.Read(t, buf); err == io.EOF {
						return 0, nil
					} else if err != nil {
						return 0, err
					}
				}
			})
			c, err := aio.DialTCP(t, ln.Addr(), time.Second)
			if err != nil {
				return err
			}
			buf := make([]byte, streamChunk)
			b.ResetTimer()
			for range b.N {
				if err := c.WriteAll(t, buf); err != nil {
					return err
				}
			}
			c.CloseWrite()
			_, err = aio.Await(t, sink)
			c.Close()
			return err
		})
	})
	b.Run("net", func(b *testing.B) {
		b.SetBytes(streamChunk)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		done := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			defer c.Close()
			_, err = io.CopyBuffer(io.Discard, c, make([]byte, streamChunk))
			done <- err
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, streamChunk)
		b.ResetTimer()
		for range b.N {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		c.Close()
	})
}

// BenchmarkManyConns: 10,000 loopback connections open at once on one
// loop, each doing one echo round trip; ns/op is per connection (dial,
// round trip, close), and peak RSS of this process is reported. The echo
// server is another aio loop in a child process (this test binary run
// again), so that each side fits in the usual limit of open files. Dials
// go out at most 512 at a time so that the kernel's accept backlog does
// not overflow (an overflow costs a one-second SYN retry, which would
// measure the kernel, not the loop); every connection stays open until
// all 10,000 have made their round trip.
func BenchmarkManyConns(b *testing.B) {
	const conns = 10_000
	addr, stop := startEchoProcess(b)
	defer stop()
	runB(b, func(t *aio.Task) error {
		b.ResetTimer()
		for range b.N {
			dialing := aio.NewSemaphore(512)
			allDone := aio.NewEvent()
			remaining := conns
			g := aio.NewGroup(t)
			for range conns {
				g.Go("client", func(t *aio.Task) error {
					if err := dialing.Acquire(t); err != nil {
						return err
					}
					c, err := aio.DialTCP(t, addr, 10*time.Second)
					dialing.Release()
					if err != nil {
						return err
					}
					defer c.Close()
					msg := []byte("ping1234")
					if err := c.WriteAll(t, msg); err != nil {
						return err
					}
					if err := c.ReadFull(t, msg); err != nil {
						return err
					}
					if remaining--; remaining == 0 {
						allDone.Set()
					}
					return allDone.Wait(t)
				})
			}
			if err := g.Wait(t); err != nil {
				return err
			}
		}
		return nil
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*conns), "ns/conn")
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
}

const echoEnv = "AIO_BENCH_ECHO_SERVER"

// TestMain runs the echo server when this binary is started as the
// benchmark's child process.
func TestMain(m *testing.M) {
	if os.Getenv(echoEnv) == "1" {
		os.Exit(echoServerMain())
	}
	os.Exit(m.Run())
}

// echoServerMain serves echo connections on an aio loop, prints its port,
// and exits when its standard input closes.
func echoServerMain() int {
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		ln, err := aio.ListenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
		if err != nil {
			return 0, err
		}
		fmt.Println(ln.Addr().Port())
		aio.Spawn(t, "accept loop", func(t *aio.Task) (int, error) {
			for {
				c, err := ln.Accept(t)
				if err != nil {
					return 0, err
				}
				aio.Spawn(t, "echo", func(t *aio.Task) (int, error) {
					defer c.Close()
					buf := make([]byte, 64)
					for {
						n, err := c.Read(t, buf)
						if err != nil {
							return 0, nil
						}
						if err := c.WriteAll(t, buf[:n]); err != nil {
							return 0, err
						}
					}
				})
			}
		})
		// Stdin is read on the executor: it blocks.
		_, err = aio.Blocking(t, func() ([]byte, error) { return io.ReadAll(os.Stdin) })
		return 0, err
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func startEchoProcess(b *testing.B) (netip.AddrPort, func()) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), echoEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var port uint16
	if _, err := fmt.Fscan(stdout, &port); err != nil {
		cmd.Process.Kill()
		b.Fatalf("echo server: %v", err)
	}
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), func() {
		stdin.Close()
		cmd.Wait()
	}
}

// BenchmarkTaskSwitchTraced is BenchmarkTaskSwitch/tasks=100 with a
// tracer recording every step: the cost of --trace per task switch.
func BenchmarkTaskSwitchTraced(b *testing.B) {
	tr := aio.NewTracer(0)
	_, err := aio.Run(func(t *aio.Task) (int, error) {
		g := aio.NewGroup(t)
		b.ResetTimer()
		for range 100 {
			g.Go("yielder", func(t *aio.Task) error {
				for range b.N / 100 {
					if err := aio.Yield(t); err != nil {
						return err
					}
				}
				return nil
			})
		}
		return 0, g.Wait(t)
	}, aio.WithTracer(tr))
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkParkDeadline: a one-byte ping-pong over loopback TCP, where
// every read parks on EAGAIN; ns/op and allocs/op are per round trip (two
// parks). "deadline" sets a read deadline on both ends, as a peer
// connection's idle timeout does: the difference to "none" is what a
// timed park costs. The deadline timer is the parked task's own, re-armed
// in place, so it allocates nothing.
func BenchmarkParkDeadline(b *testing.B) {
	for _, timed := range []bool{false, true} {
		name := "none"
		if timed {
			name = "deadline"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			runB(b, func(t *aio.Task) error {
				ln, err := aio.ListenTCP(t, netip.MustParseAddrPort("127.0.0.1:0"))
				if err != nil {
					return err
				}
				defer ln.Close()
				a, err := aio.DialTCP(t, ln.Addr(), time.Second)
				if err != nil {
					return err
				}
				defer a.Close()
				c, err := ln.Accept(t)
				if err != nil {
					return err
				}
				defer c.Close()
				if timed {
					far := t.Loop().Now().Add(time.Hour)
					a.SetReadDeadline(far)
					c.SetReadDeadline(far)
				}
				pong := aio.Spawn(t, "pong", func(t *aio.Task) (struct{}, error) {
					buf := make([]byte, 1)
					for range b.N {
						if err := c.ReadFull(t, buf); err != nil {
							return struct{}{}, err
						}
						if _, err := c.Write(t, buf); err != nil {
							return struct{}{}, err
						}
					}
					return struct{}{}, nil
				})
				buf := make([]byte, 1)
				b.ResetTimer()
				for range b.N {
					if _, err := a.Write(t, buf); err != nil {
						return err
					}
					if err := a.ReadFull(t, buf); err != nil {
						return err
					}
				}
				b.StopTimer()
				_, err = aio.Await(t, pong)
				return err
			})
		})
	}
}
