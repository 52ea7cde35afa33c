package metainfo_test

import (
	"fmt"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

func ExampleParseMagnet() {
	m, err := metainfo.ParseMagnet("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK" +
		"&dn=Some+Name&tr=udp%3A%2F%2F127.0.0.1%3A6969&x.pe=127.0.0.1:6881")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%x %q %q %q\n", m.InfoHash, m.Name, m.Trackers, m.Peers)
	fmt.Println(m)
	// Output:
	// c12fe1c06bba254a9dc9f519b335aa7c1367a88a "Some Name" ["udp://127.0.0.1:6969"] ["127.0.0.1:6881"]
	// magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Some+Name&tr=udp%3A%2F%2F127.0.0.1%3A6969&x.pe=127.0.0.1%3A6881
}
