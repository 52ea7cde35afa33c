package tracker

import (
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// benchAnnounce is the client's cost of one announce round trip to our own
// server on loopback: the number that matters when a thousand torrents
// announce every interval. The server's share is in the same profile, so
// read the client's functions in it (see BenchmarkServer*Announce for the
// server alone).
func benchAnnounce(b *testing.B, scheme string) {
	_, err := aio.Run(func(at *aio.Task) (struct{}, error) {
		srv, err := Serve(at, ServerConfig{HTTPAddr: loopback, UDPAddr: loopback, Interval: time.Minute})
		if err != nil {
			return struct{}{}, err
		}
		defer srv.Close()
		url := srv.AnnounceURL()
		if scheme == "udp" {
			url = srv.UDPAnnounceURL()
		}
		tr, err := New(url, Config{Timeout: 5 * time.Second})
		if err != nil {
			return struct{}{}, err
		}
		req := clientReq('a', 7001, EventNone)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tr.Announce(at, req); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkAnnounceHTTP(b *testing.B) { benchAnnounce(b, "http") }
func BenchmarkAnnounceUDP(b *testing.B)  { benchAnnounce(b, "udp") }
