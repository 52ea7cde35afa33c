package torrent

import (
	"fmt"

	"github.com/aiotorrent/aiotorrent/peer"
)

// maxQueuedOut bounds what we queue for a peer that is not reading it.
const maxQueuedOut = 4 << 20

// extState is what we know of a peer's extensions (BEP 10): the id it
// wants ut_metadata messages sent under (0 if it has none), and its PEX.
type extState struct {
	theirMetadataID   uint8
	prefersEncryption bool // its "e": PEX passes it on
	pex               pexState
}

// extHandshakeFrame is our BEP 10 handshake, sent right after the
// bitfield to peers that set the extension bit: it offers ut_metadata and
// the size of our info dictionary, ut_pex unless the torrent is private,
// our listen port, so that a peer we dialled can pass us on, and how many
// requests we hold for the peer (reqq; see session_upload.go).
func (s *Session) extHandshakeFrame() []byte {
	h := ExtHandshakeOurs(len(s.meta.InfoBytes))
	if s.pexEnabled() {
		h.M[peer.UTPex] = ourUTPexID
	}
	h.P = int(s.client.Addr().Port())
	if s.client.cfg.Encryption != EncryptionDisable {
		h.E = 1
	}
	h.Reqq = maxUploads
	return peer.AppendExtHandshake(nil, h)
}

// onExtended handles an extended message: the peer's extension handshake,
// its ut_metadata requests (BEP 9), which we answer from the info
// dictionary, so that a peer holding only a magnet link can start, and
// its ut_pex messages (session_pex.go). Anything else is ignored: we
// offer no other extension.
func (s *Session) onExtended(p *peerConn, ext *extState, m peer.Message) error {
	switch m.ExtID {
	case peer.ExtHandshakeID:
		h, err := peer.ParseExtHandshake(m.Payload)
		if err != nil {
			return err
		}
		ext.theirMetadataID = uint8(h.M[peer.UTMetadata])
		ext.prefersEncryption = h.E == 1
		if s.pexEnabled() {
			ext.pex.theirID = uint8(h.M[peer.UTPex])
		}
		if !s.onTheirListenPort(p, h.P) {
			return fmt.Errorf("peer %s: its listen address is banned", p.conn.RemoteAddr())
		}
	case ourUTPexID:
		return s.onPex(p, m.Payload)
	case ourUTMetadataID:
		req, err := peer.ParseMetadataMsg(m.Payload)
		if err != nil {
			return err
		}
		if req.Type != peer.MetadataRequest || ext.theirMetadataID == 0 {
			return nil
		}
		if p.conn.Queued() > maxQueuedOut {
			// Requests faster than it reads the replies: a peer trying to
			// make us buffer without bound.
			return fmt.Errorf("peer %s: ut_metadata requests outrun its reading", p.conn.RemoteAddr())
		}
		info := s.meta.InfoBytes
		begin := req.Piece * peer.MetadataPieceSize
		reply := peer.MetadataMsg{Type: peer.MetadataReject, Piece: req.Piece}
		if begin < len(info) {
			reply = peer.MetadataMsg{Type: peer.MetadataData, Piece: req.Piece, TotalSize: len(info),
				Data: info[begin:min(len(info), begin+peer.MetadataPieceSize)]}
		}
		p.conn.Queue(peer.AppendMetadataMsg(nil, ext.theirMetadataID, reply))
		p.wake.Set()
	}
	return nil
}
