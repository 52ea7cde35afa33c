package torrent

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
	"github.com/aiotorrent/aiotorrent/peer"
)

// metadataFrom downloads the info dictionary from one peer over
// ut_metadata (BEP 9) and returns its bytes, not yet checked against the
// info-hash: that is the caller's job, on the executor.
func metadataFrom(t *aio.Task, addr netip.AddrPort, infoHash, peerID [20]byte, enc Encryption) ([]byte, error) {
	c, err := dialForMetadata(t, addr, infoHash, peerID, enc)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var d metadataDownload
	for !d.complete() {
		msg, err := c.ReadMessage(t)
		if err != nil {
			return nil, err
		}
		if msg.ID != peer.Extended {
			continue // bitfields and haves: not what we came for
		}
		switch msg.ExtID {
		case peer.ExtHandshakeID:
			requests, err := d.start(msg.Payload)
			if err == nil && len(requests) > 0 {
				err = c.Send(t, requests)
			}
			if err != nil {
				return nil, err
			}
		case ourUTMetadataID:
			reply, err := d.receive(msg.Payload)
			if err == nil && len(reply) > 0 {
				err = c.Send(t, reply)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return d.info, nil
}

// dialForMetadata connects to addr offering the extension protocol (BEP
// 10) and sends our extension handshake. A peer that does not offer the
// protocol back cannot serve metadata.
func dialForMetadata(t *aio.Task, addr netip.AddrPort, infoHash, peerID [20]byte, enc Encryption) (*peer.Conn, error) {
	ours := peer.Handshake{InfoHash: infoHash, PeerID: peerID}
	ours.Reserved.Set(peer.ExtensionProtocolBit)
	c, theirs, _, err := dialWith(t, enc, connectTCP, addr, infoHash, ours, peer.Limits{MaxBlock: peer.BlockSize}, 10*time.Second, false)
	if err != nil {
		return nil, err
	}
	if !theirs.Reserved.Has(peer.ExtensionProtocolBit) {
		c.Close()
		return nil, errors.New("peer does not speak the extension protocol")
	}
	c.SetIdleTimeout(30 * time.Second)
	if err := c.Send(t, peer.AppendExtHandshake(nil, ExtHandshakeOurs(0))); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// metadataDownload is the info dictionary arriving from one peer in
// pieces of peer.MetadataPieceSize. It is empty until the peer's
// extension handshake says how large the dictionary is.
type metadataDownload struct {
	info     []byte // nil until the handshake
	got      []bool // got[i]: piece i has arrived
	received int    // how many of got are true
	theirID  uint8  // the id the peer takes ut_metadata messages under
	rejected int    // requests of theirs we answered with a reject
}

// maxRejects bounds the rejects sent on one connection: past it a peer's
// requests go unanswered rather than turn us into its echo.
const maxRejects = 64

func (d *metadataDownload) complete() bool { return d.info != nil && d.received == len(d.got) }

// start reads the peer's extension handshake and returns the requests for
// every piece of the metadata. A repeated handshake asks for nothing more.
func (d *metadataDownload) start(payload []byte) ([]byte, error) {
	h, err := peer.ParseExtHandshake(payload)
	if err != nil {
		return nil, err
	}
	id, ok := h.M[peer.UTMetadata]
	if !ok || id == 0 || h.MetadataSize <= 0 {
		return nil, errors.New("peer does not serve metadata")
	}
	if d.info != nil {
		return nil, nil
	}
	d.theirID = uint8(id)
	d.info = make([]byte, h.MetadataSize)
	d.got = make([]bool, (h.MetadataSize+peer.MetadataPieceSize-1)/peer.MetadataPieceSize)
	var frames []byte
	for i := range d.got {
		frames = peer.AppendMetadataMsg(frames, d.theirID, peer.MetadataMsg{Type: peer.MetadataRequest, Piece: i})
	}
	return frames, nil
}

// receive takes one ut_metadata message. A data piece must fit the size
// the handshake announced; a reject ends the download. A request of the
// peer's (it is fetching too) is answered with a reject, as BEP 9 asks of
// a peer that does not have the metadata: reply is that frame.
func (d *metadataDownload) receive(payload []byte) (reply []byte, err error) {
	if d.info == nil {
		return nil, errors.New("ut_metadata message before the extension handshake")
	}
	m, err := peer.ParseMetadataMsg(payload)
	if err != nil {
		return nil, err
	}
	switch {
	case m.Type == peer.MetadataReject:
		return nil, fmt.Errorf("peer rejected metadata piece %d", m.Piece)
	case m.Type == peer.MetadataRequest:
		if d.rejected >= maxRejects {
			return nil, nil
		}
		d.rejected++
		return peer.AppendMetadataMsg(nil, d.theirID, peer.MetadataMsg{Type: peer.MetadataReject, Piece: m.Piece}), nil
	case m.TotalSize != len(d.info) || m.Piece >= len(d.got):
		return nil, fmt.Errorf("metadata piece %d of a %d-byte total, want %d bytes", m.Piece, m.TotalSize, len(d.info))
	}
	begin := m.Piece * peer.MetadataPieceSize
	if want := min(peer.MetadataPieceSize, len(d.info)-begin); len(m.Data) != want {
		return nil, fmt.Errorf("metadata piece %d has %d bytes, want %d", m.Piece, len(m.Data), want)
	}
	if !d.got[m.Piece] {
		d.got[m.Piece] = true
		d.received++
		copy(d.info[begin:], m.Data)
	}
	return nil, nil
}

// ourUTMetadataID is the extended message id we ask peers to send
// ut_metadata messages under.
const ourUTMetadataID = 2

// ExtHandshakeOurs is the extension handshake we send: ut_metadata under
// ourUTMetadataID, and the size of our metadata when we have it (0 when
// we are the one fetching it).
func ExtHandshakeOurs(metadataSize int) peer.ExtHandshake {
	return peer.ExtHandshake{M: map[string]int{peer.UTMetadata: ourUTMetadataID}, V: "aiotorrent 0.1", MetadataSize: metadataSize}
}
