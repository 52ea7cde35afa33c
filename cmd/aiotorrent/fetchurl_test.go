package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDownloadTorrentURL: download (and the no-command form) takes the
// http URL of a .torrent, fetched before anything else; a URL that fails
// (404, refused, too large, not a torrent) is an error that names it.
func TestDownloadTorrentURL(t *testing.T) {
	root := t.TempDir()
	tp := makeShare(t, root, "share", shareSizes)
	raw := readOrFail(t, tp)
	peer := startSeeder(t, tp, root)
	mux := http.NewServeMux()
	mux.HandleFunc("/share.torrent", func(w http.ResponseWriter, r *http.Request) { w.Write(raw) })
	mux.HandleFunc("/big.torrent", func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte{'x'}, maxTorrentURLSize+1))
	})
	mux.HandleFunc("/page.html", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>not here</html>")) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, cmd := range [][]string{{"download"}, {}} {
		dst := t.TempDir()
		args := append(cmd, srv.URL+"/share.torrent", "-o", dst, "--port", "0", "--no-dht", "--no-lsd", "-q", "--peer", peer)
		if r := runCLI(t, "", args...); r.code != exitOK {
			t.Fatalf("%q: exit %d, stderr %q", args, r.code, r.errOut)
		}
		for f := range shareSizes {
			wantSameFile(t, filepath.Join(root, "share", f), filepath.Join(dst, "share", f))
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/x.torrent"
	ln.Close()
	for _, tc := range []struct{ url, want string }{
		{srv.URL + "/missing.torrent", "404 Not Found"},
		{refused, "connection refused"},
		{srv.URL + "/big.torrent", "too large"},
		{srv.URL + "/page.html", "not a .torrent file"},
	} {
		dst := t.TempDir()
		r := runCLI(t, "", "download", tc.url, "-o", dst, "--port", "0", "--no-dht", "--no-lsd")
		// A .torrent fetched by URL is no web seed: "webseed:" was said.
		if r.code != exitFailure || !strings.Contains(r.errOut, tc.url) || !strings.Contains(r.errOut, tc.want) || strings.Contains(r.errOut, "webseed") {
			t.Errorf("%s: exit %d, stderr %q; want %d, the URL and %q", tc.url, r.code, r.errOut, exitFailure, tc.want)
		}
		if entries, _ := os.ReadDir(dst); len(entries) != 0 {
			t.Errorf("%s: %d entries written to the download directory", tc.url, len(entries))
		}
	}
}

// TestRefusedTorrentURLSaysTheAddressOnce: a .torrent URL whose server
// refuses said "connect 127.0.0.1:P: dial 127.0.0.1:P: connection
// refused", the address twice.
func TestRefusedTorrentURLSaysTheAddressOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	u := "http://" + addr + "/x.torrent"
	r := runCLI(t, "", u, "--no-dht", "--no-lsd", "-o", t.TempDir())
	want := "aiotorrent: fetching the torrent: GET " + u + ": dial " + addr + ": connection refused\n"
	if r.code != exitFailure || r.errOut != want {
		t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.errOut, exitFailure, want)
	}
}
