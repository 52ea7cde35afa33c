package netpoll

import (
	"encoding/binary"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestWakeRacingCloseNeverWritesAReusedFd: Wake checked "closed" and then
// wrote to the eventfd, so a Close in between let it write into whatever
// took the eventfd's number next. Here wakers spin while the poller
// closes, and two fresh eventfds take the freed numbers at once: neither
// may ever count a wake, and no Wake may fail with anything but ErrClosed.
func TestWakeRacingCloseNeverWritesAReusedFd(t *testing.T) {
	const rounds, wakers = 300, 4
	for range rounds {
		p, err := New()
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, wakers)
		started := make(chan struct{}, wakers)
		for range wakers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				started <- struct{}{}
				for {
					if err := p.Wake(); err != nil {
						if err != ErrClosed {
							errs <- err
						}
						return
					}
					runtime.Gosched() // let the closer have a CPU
				}
			}()
		}
		<-started
		p.Close()
		var fresh [2]int
		for i := range fresh {
			if fresh[i], err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Wake while closing: %v, want nil or ErrClosed", err)
		}
		for _, fd := range fresh {
			var buf [8]byte
			n, err := unix.Read(fd, buf[:])
			unix.Close(fd)
			if err != unix.EAGAIN {
				t.Fatalf("fd %d, opened after Close, was written to (read %d bytes, counter %d, %v)",
					fd, n, binary.NativeEndian.Uint64(buf[:]), err)
			}
		}
	}
}
