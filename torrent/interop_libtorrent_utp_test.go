package torrent

import "testing"

// ltUTPOnly makes a libtorrent peer speak uTP only: no TCP either way.
var ltUTPOnly = []string{
	"--set", "enable_incoming_tcp=false", "--set", "enable_outgoing_tcp=false",
	"--set", "enable_incoming_utp=true", "--set", "enable_outgoing_utp=true",
}

// TestLibtorrentLeechesFromUsOverUTP: a libtorrent leecher that speaks
// no TCP dials our seeder's UDP port (the TCP port) over uTP and
// downloads every byte.
func TestLibtorrentLeechesFromUsOverUTP(t *testing.T) {
	leechIntoLibtorrent(t, 16<<20, ltUTPOnly...)
}
