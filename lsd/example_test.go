package lsd_test

import (
	"net/netip"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/lsd"
)

// A session wires LSD in as one more peer source: one Service for the
// client, one registration per torrent, found addresses onto the queue
// the dialler reads. (Not run: it needs the real LSD port.)
func Example() {
	aio.Run(func(t *aio.Task) (struct{}, error) {
		svc, err := lsd.New(t, lsd.Config{ListenPort: 6881})
		if err != nil {
			return struct{}{}, err // no multicast here: go on without LSD
		}
		g := aio.NewGroup(t)
		g.Go("lsd", svc.Run)

		peers := aio.NewQueue[netip.AddrPort](256)
		var infoHash [20]byte // from the metainfo
		unregister := svc.Register(infoHash, false, func(p netip.AddrPort) {
			peers.TryPut(p) // found must not block: a full queue skips one
		})
		defer unregister()
		// ... the download reads peers ...
		g.Cancel()
		return struct{}{}, g.Wait(t)
	})
}
