// Command aiotorrent is a BitTorrent client on aiotorrent's own event
// loop: download, seed, create and inspect torrents, run a tracker, or
// watch a whole swarm on loopback with `aiotorrent demo`.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], NewFactory()))
}
