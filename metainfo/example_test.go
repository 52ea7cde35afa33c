package metainfo_test

import (
	"fmt"

	"github.com/aiotorrent/aiotorrent/metainfo"
)

func ExampleLoad() {
	m, err := metainfo.Load("../testdata/multi.torrent")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Name, m.Length, "bytes in", m.NumPieces(), "pieces; last piece", m.PieceSize(m.NumPieces()-1))
	for i, f := range m.Files {
		fmt.Println(m.FilePath(i), f.Length, f.Offset)
	}
	fmt.Println(m.Trackers())
	// Output:
	// multi 54010 bytes in 4 pieces; last piece 4858
	// multi/.hidden 10 0
	// multi/a.txt 1000 10
	// multi/a/x.bin 20000 1010
	// multi/b/c/d.bin 33000 21010
	// multi/empty 0 54010
	// [[http://127.0.0.1:1/announce] [udp://127.0.0.1:2 http://127.0.0.1:3/announce]]
}
