package main

import "strings"

// isTorrentURL reports whether a is an http(s) URL, which download
// fetches as a .torrent file.
func isTorrentURL(a string) bool {
	return strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://")
}
