package torrent

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestDropReason: the log line of a dropped peer says why in a few
// words, without repeating the address the line names.
func TestDropReason(t *testing.T) {
	const addr = "10.0.0.2:6881"
	for _, c := range []struct {
		err     error
		dropped bool
		want    string
	}{
		{aio.ErrCanceled, false, "the session ends"},
		{fmt.Errorf("peer %s: read: %w", addr, io.EOF), false, "it closed the connection"},
		{fmt.Errorf("peer %s: rejected 1:0+16384, which we never requested", addr), false, "rejected 1:0+16384, which we never requested"},
		{errors.New("idle for 2m0s"), false, "idle for 2m0s"},
		{nil, true, "replaced by another connection to it"},
		{nil, false, "it closed the connection"},
	} {
		if got := dropReason(c.err, &peerConn{dropped: c.dropped}, addr); got != c.want {
			t.Errorf("dropReason(%v, dropped %v) = %q, want %q", c.err, c.dropped, got, c.want)
		}
	}
	// Closed by us on completing, it said "write: aio: closed".
	p := &peerConn{closedFor: fmt.Errorf("peer %s: %w", addr, errBothSeeds)}
	if got, want := dropReason(fmt.Errorf("write: %w", aio.ErrClosed), p, addr), errBothSeeds.Error(); got != want {
		t.Errorf("dropReason of a seed closed on completing = %q, want %q", got, want)
	}
}
