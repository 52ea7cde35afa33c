package tracker_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/tracker"
)

// A tracker server on a free loopback port and two clients: the second
// one is handed the first.
func Example() {
	aio.Run(func(t *aio.Task) (struct{}, error) {
		srv, err := tracker.Serve(t, tracker.ServerConfig{
			HTTPAddr: netip.MustParseAddrPort("127.0.0.1:0"),
			UDPAddr:  netip.MustParseAddrPort("127.0.0.1:0"),
			Interval: 5 * time.Minute,
		})
		if err != nil {
			return struct{}{}, err
		}
		defer srv.Close()

		req := tracker.AnnounceRequest{InfoHash: [20]byte{1}, Port: 6881, Left: 1, Event: tracker.EventStarted}
		tracker.Announce(t, srv.AnnounceURL(), req)

		req.Port = 6882
		resp, err := tracker.Announce(t, srv.UDPAnnounceURL(), req)
		if err != nil {
			return struct{}{}, err
		}
		fmt.Println(resp.Peers, resp.Interval, resp.Incomplete)
		return struct{}{}, nil
	})
	// Output: [127.0.0.1:6881] 5m0s 2
}
