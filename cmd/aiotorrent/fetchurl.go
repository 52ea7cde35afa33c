package main

import (
	"fmt"
	"strings"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/metainfo"
	"github.com/aiotorrent/aiotorrent/webseed"
)

// isTorrentURL reports whether a is an http(s) URL, which download
// fetches as a .torrent file.
func isTorrentURL(a string) bool {
	return strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://")
}

// maxTorrentURLSize bounds a .torrent fetched by URL: a few hundred KiB
// is usual, and a server is trusted less than a file the user has.
const maxTorrentURLSize = 10 << 20

// fetchTorrent downloads and parses the .torrent at rawURL, on an event
// loop of its own before the download's starts, with the web seed
// client: http:// on the loop's sockets, https:// on the executor, the
// same timeouts and redirect bound. A file over maxTorrentURLSize is
// refused before more of it is read.
func fetchTorrent(rawURL string) (*metainfo.Torrent, error) {
	data, err := aio.Run(func(t *aio.Task) ([]byte, error) {
		c := webseed.New(webseed.Config{})
		defer c.Close()
		return c.Fetch(t, rawURL, maxTorrentURLSize)
	})
	if err != nil {
		// Fetch's errors start with "GET URL".
		return nil, fmt.Errorf("fetching the torrent: %w", fetchError{err})
	}
	m, err := metainfo.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a .torrent file: %w", rawURL, err)
	}
	return m, nil
}

// fetchError drops the web seed client's "webseed: " from its message: a
// .torrent fetched by URL is no web seed ("GET URL: webseed: HTTP status
// 404" read as if a web seed had failed).
type fetchError struct{ err error }

func (e fetchError) Error() string { return strings.ReplaceAll(e.err.Error(), "webseed: ", "") }
func (e fetchError) Unwrap() error { return e.err }
