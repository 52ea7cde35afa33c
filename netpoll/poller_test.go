package netpoll

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func newPoller(t *testing.T) *Poller {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func socketpair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	for _, fd := range fds {
		unix.SetNonblock(fd, true)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// expectEvents waits (bounded) and returns the union of readiness reported
// for fd.
func expectEvents(t *testing.T, p *Poller, fd int, want Ready) {
	t.Helper()
	var got Ready
	deadline := time.Now().Add(2 * time.Second)
	events := make([]Event, 8)
	for got&want != want && time.Now().Before(deadline) {
		n, err := p.Wait(events, 100*time.Millisecond)
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		for _, e := range events[:n] {
			if e.Fd == fd {
				got |= e.Ready
			}
		}
	}
	if got&want != want {
		t.Fatalf("fd %d: got readiness %04b, want at least %04b", fd, got, want)
	}
}

func expectNoEvents(t *testing.T, p *Poller) {
	t.Helper()
	events := make([]Event, 8)
	n, err := p.Wait(events, 20*time.Millisecond)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if n != 0 {
		t.Fatalf("got %d events %v, want none", n, events[:n])
	}
}

func TestWritableAtOnce(t *testing.T) {
	p := newPoller(t)
	a, _ := socketpair(t)
	if err := p.Add(a, Read|Write); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, p, a, Writable)
	// Edge-triggered: nothing changed, so nothing more is reported.
	expectNoEvents(t, p)
}

func TestReadable(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, Read); err != nil {
		t.Fatal(err)
	}
	expectNoEvents(t, p)
	if _, err := unix.Write(b, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, p, a, Readable)
	buf := make([]byte, 16)
	n, err := unix.Read(a, buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read: got %q, %v; want %q", buf[:n], err, "hello")
	}
	// Drained until EAGAIN: the edge is gone.
	if _, err := unix.Read(a, buf); err != unix.EAGAIN {
		t.Fatalf("second read: got %v, want EAGAIN", err)
	}
	expectNoEvents(t, p)
}

func TestHangUp(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, Read); err != nil {
		t.Fatal(err)
	}
	unix.Shutdown(b, unix.SHUT_WR)
	expectEvents(t, p, a, Readable|HangUp)
}

func TestPipeReadable(t *testing.T) {
	p := newPoller(t)
	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	unix.SetNonblock(fds[0], true)
	if err := p.Add(fds[0], Read); err != nil {
		t.Fatal(err)
	}
	unix.Write(fds[1], []byte{1})
	expectEvents(t, p, fds[0], Readable)
}

func TestModifyAndRemove(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	if err := p.Add(a, Read|Write); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, p, a, Writable)
	if err := p.Modify(a, Read); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(a); err != nil {
		t.Fatal(err)
	}
	unix.Write(b, []byte("x"))
	expectNoEvents(t, p)
	// Removing twice, or an fd never added, is not an error.
	if err := p.Remove(a); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	p := newPoller(t)
	start := time.Now()
	n, err := p.Wait(make([]Event, 4), 30*time.Millisecond)
	if err != nil || n != 0 {
		t.Fatalf("Wait: got %d, %v; want 0, nil", n, err)
	}
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Fatalf("Wait returned after %v, want at least 30ms", el)
	}
}

func TestZeroTimeoutDoesNotBlock(t *testing.T) {
	p := newPoller(t)
	start := time.Now()
	if _, err := p.Wait(make([]Event, 4), 0); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("Wait(0) took %v", el)
	}
}

func TestWakeFromAnotherThread(t *testing.T) {
	p := newPoller(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(10 * time.Millisecond)
		if err := p.Wake(); err != nil {
			t.Errorf("Wake: %v", err)
		}
	}()
	start := time.Now()
	n, err := p.Wait(make([]Event, 4), 5*time.Second)
	wg.Wait()
	if err != nil || n != 0 {
		t.Fatalf("Wait: got %d, %v; want 0 events (the wake is not an event)", n, err)
	}
	if el := time.Since(start); el > 4*time.Second {
		t.Fatalf("Wake did not interrupt Wait (took %v)", el)
	}
	// The wakeup was consumed: the next Wait times out.
	expectNoEvents(t, p)
}

func TestManyWakesCoalesce(t *testing.T) {
	p := newPoller(t)
	for range 1000 {
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Wait(make([]Event, 4), time.Second); err != nil {
		t.Fatal(err)
	}
	expectNoEvents(t, p)
}

func TestClosed(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := p.Wait(make([]Event, 1), 0); err != ErrClosed {
		t.Fatalf("Wait after Close: got %v, want ErrClosed", err)
	}
	if err := p.Wake(); err != ErrClosed {
		t.Fatalf("Wake after Close: got %v, want ErrClosed", err)
	}
	if err := p.Close(); err != ErrClosed {
		t.Fatalf("second Close: got %v, want ErrClosed", err)
	}
}

func TestTimeoutMillisRoundsUp(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want int
	}{{-1, -1}, {0, 0}, {1, 1}, {500 * time.Microsecond, 1}, {time.Millisecond, 1}, {1500 * time.Microsecond, 2}} {
		if got := timeoutMillis(c.in); got != c.want {
			t.Errorf("timeoutMillis(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestCloseFDDeliversNoEventOfTheClosedFd: CloseFD closes without
// Remove, relying on the kernel to drop a closed fd from the set. Were the
// registration left behind, data arriving for the closed socket would be
// reported under its number, which a new socket has taken here.
func TestCloseFDDeliversNoEventOfTheClosedFd(t *testing.T) {
	p := newPoller(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := fds[0], fds[1]
	defer unix.Close(b)
	if err := p.Add(a, Read|Write); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, p, a, Writable)
	if err := p.CloseFD(a); err != nil {
		t.Fatalf("CloseFD: %v", err)
	}
	reuse, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(reuse[1])
	if reuse[0] != a {
		if err := unix.Dup2(reuse[0], a); err != nil {
			t.Fatal(err)
		}
		unix.Close(reuse[0])
	}
	defer unix.Close(a)
	unix.Write(b, []byte("x"))
	unix.Shutdown(b, unix.SHUT_WR)
	expectNoEvents(t, p)
	// b's end saw the close: nothing else held the old socket open.
	unix.SetNonblock(b, true)
	var buf [1]byte
	if n, err := unix.Read(b, buf[:]); n != 0 || err != nil {
		t.Fatalf("read from the closed socket's peer: %d, %v; want EOF (0, nil)", n, err)
	}
}
