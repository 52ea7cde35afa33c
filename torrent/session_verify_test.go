package torrent

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestCancelDuringVerifyIsNoDiskError: a download cancelled while a piece
// is being checked used to end with "piece N: aio: canceled", reported as
// a fatal disk error. Now it ends with ErrCanceled, and the piece whose
// check was under way is verified and kept.
func TestCancelDuringVerifyIsNoDiskError(t *testing.T) {
	dst := t.TempDir()
	var leech *Session
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		sw, err := newSwarm(t, at, payloadSizes, 32<<10)
		if err != nil {
			return struct{}{}, err
		}
		if _, _, err := sw.node(at, "seeder", sw.src, true, nil); err != nil {
			return struct{}{}, err
		}
		var h *aio.Handle[struct{}]
		leech, h, err = sw.node(at, "leecher", dst, false, func(s *Session) {
			s.onVerify = func(int) { h.Cancel() }
		})
		if err != nil {
			return struct{}{}, err
		}
		_, err = aio.AwaitTimeout(at, h, 30*time.Second)
		if !errors.Is(err, aio.ErrCanceled) {
			return struct{}{}, fmt.Errorf("download ended with %v, want ErrCanceled", err)
		}
		return struct{}{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := leech.Progress(); p.Verified == 0 {
		t.Fatalf("progress %+v: the piece under check when the cancel came was lost", p)
	}
}
