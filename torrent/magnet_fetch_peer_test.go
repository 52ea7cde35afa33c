package torrent

import (
	"bytes"
	"testing"

	"github.com/aiotorrent/aiotorrent/peer"
)

// extPayload strips a whole extended frame down to its payload, as
// ReadMessage hands it over.
func extPayload(t *testing.T, frame []byte) []byte {
	t.Helper()
	m, _, err := peer.ParseMessage(frame, peer.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return m.Payload
}

// TestMetadataRequestWhileFetchingIsRejected: a peer that asks us for the
// metadata while we fetch it gets a reject (BEP 9), not silence, and a
// peer that keeps asking is answered a bounded number of times.
func TestMetadataRequestWhileFetchingIsRejected(t *testing.T) {
	var d metadataDownload
	hs := peer.AppendExtHandshake(nil, peer.ExtHandshake{M: map[string]int{peer.UTMetadata: 5}, MetadataSize: 100})
	if _, err := d.start(extPayload(t, hs)); err != nil {
		t.Fatal(err)
	}
	req := extPayload(t, peer.AppendMetadataMsg(nil, ourUTMetadataID, peer.MetadataMsg{Type: peer.MetadataRequest, Piece: 3}))
	want := peer.AppendMetadataMsg(nil, 5, peer.MetadataMsg{Type: peer.MetadataReject, Piece: 3})
	for i := range maxRejects + 2 {
		reply, err := d.receive(req)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case i < maxRejects && !bytes.Equal(reply, want):
			t.Fatalf("request %d: reply %q, want %q", i, reply, want)
		case i >= maxRejects && reply != nil:
			t.Fatalf("request %d: reply %q, want none past %d", i, reply, maxRejects)
		}
	}
}
