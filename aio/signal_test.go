package aio_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestSignalStopJoinsItsGoroutine: stop told the signal goroutine to
// exit and returned without waiting, so the loop's close (which calls
// stop) could return with that goroutine still alive, and it could still
// post to the loop. Once stop returns the goroutine must be gone.
func TestSignalStopJoinsItsGoroutine(t *testing.T) {
	// One P: a goroutine that stop merely readied cannot run (and exit)
	// before the check below unless stop waits for it.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) {
		l := t.Loop()
		calls := 0
		stop := aio.OnSignal(l, func(os.Signal) { calls++ }, syscall.SIGUSR1)
		if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
			return struct{}{}, err
		}
		for calls == 0 {
			if err := aio.Sleep(t, time.Millisecond); err != nil {
				return struct{}{}, err
			}
		}
		stop()
		if stacks := goroutineStacks(); strings.Contains(stacks, "aio.OnSignal") {
			return struct{}{}, fmt.Errorf("the signal goroutine outlived stop:\n%s", stacks)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
