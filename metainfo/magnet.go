package metainfo

import (
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ErrBadMagnet is wrapped by every error from ParseMagnet.
var ErrBadMagnet = errors.New("bad magnet link")

// MaxMagnetLength bounds the magnet links ParseMagnet accepts; real ones
// with dozens of trackers stay under a few KiB.
const MaxMagnetLength = 64 << 10

// Magnet is a BitTorrent v1 magnet link (BEP 9).
type Magnet struct {
	// InfoHash from xt=urn:btih:.
	InfoHash [20]byte
	// Name from dn, a display name only (it is not checked as a path).
	Name string
	// Trackers from tr, in the order given.
	Trackers []string
	// Peers from x.pe, each "host:port" (IPv6 hosts in brackets).
	Peers []string
	// WebSeeds from ws (BEP 19 web seeds), absolute http or https URLs.
	WebSeeds []string
}

// ParseMagnet parses a magnet link. It needs exactly one BitTorrent v1
// info-hash (40 hex or 32 base32 characters); other parameters it does
// not know, such as xl, are ignored.
func ParseMagnet(s string) (*Magnet, error) {
	if len(s) > MaxMagnetLength {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadMagnet, len(s), MaxMagnetLength)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMagnet, err)
	}
	if u.Scheme != "magnet" {
		return nil, fmt.Errorf("%w: scheme %q, want magnet", ErrBadMagnet, u.Scheme)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadMagnet, err)
	}
	m := &Magnet{Name: q.Get("dn")}
	if err := m.setInfoHash(q["xt"]); err != nil {
		return nil, err
	}
	for _, tr := range q["tr"] {
		if tr == "" {
			return nil, fmt.Errorf("%w: empty tr", ErrBadMagnet)
		}
		m.Trackers = append(m.Trackers, tr)
	}
	for _, pe := range q["x.pe"] {
		if err := checkPeerAddr(pe); err != nil {
			return nil, fmt.Errorf("%w: x.pe %q: %w", ErrBadMagnet, pe, err)
		}
		m.Peers = append(m.Peers, pe)
	}
	for _, ws := range q["ws"] {
		if u, err := url.Parse(ws); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: ws %q: want an http or https URL", ErrBadMagnet, ws)
		}
		m.WebSeeds = append(m.WebSeeds, ws)
	}
	return m, nil
}

// setInfoHash takes the info-hash from the xt values. Other URNs (such as
// BEP 52's btmh) are skipped, so a hybrid magnet works through its v1
// hash; two different v1 hashes are an error.
func (m *Magnet) setInfoHash(xts []string) error {
	found := false
	for _, xt := range xts {
		const prefix = "urn:btih:"
		if len(xt) < len(prefix) || !strings.EqualFold(xt[:len(prefix)], prefix) {
			continue
		}
		h, err := decodeBTIH(xt[len(prefix):])
		if err != nil {
			return err
		}
		if found && h != m.InfoHash {
			return fmt.Errorf("%w: two different info-hashes", ErrBadMagnet)
		}
		m.InfoHash, found = h, true
	}
	if !found {
		if len(xts) > 0 {
			return fmt.Errorf("%w: no urn:btih: in xt (%w)", ErrBadMagnet, ErrV2NotSupported)
		}
		return fmt.Errorf("%w: missing xt", ErrBadMagnet)
	}
	return nil
}

// decodeBTIH decodes a v1 info-hash in hex (40) or base32 (32).
func decodeBTIH(s string) (h [20]byte, err error) {
	var b []byte
	switch len(s) {
	case 40:
		b, err = hex.DecodeString(s)
	case 32:
		b, err = base32.StdEncoding.DecodeString(strings.ToUpper(s))
	default:
		return h, fmt.Errorf("%w: info-hash %q has %d characters, want 40 (hex) or 32 (base32)",
			ErrBadMagnet, s, len(s))
	}
	if err != nil {
		return h, fmt.Errorf("%w: info-hash %q: %w", ErrBadMagnet, s, err)
	}
	copy(h[:], b)
	return h, nil
}

// checkPeerAddr checks a host:port with a non-empty host and a port in
// 1..65535.
func checkPeerAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("empty host")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// String returns the magnet link with xt first, then dn, tr and x.pe, so
// ParseMagnet(m.String()) gives back m.
func (m *Magnet) String() string {
	var b strings.Builder
	b.WriteString("magnet:?xt=urn:btih:")
	b.WriteString(hex.EncodeToString(m.InfoHash[:]))
	if m.Name != "" {
		b.WriteString("&dn=")
		b.WriteString(url.QueryEscape(m.Name))
	}
	for _, tr := range m.Trackers {
		b.WriteString("&tr=")
		b.WriteString(url.QueryEscape(tr))
	}
	for _, pe := range m.Peers {
		b.WriteString("&x.pe=")
		b.WriteString(url.QueryEscape(pe))
	}
	for _, ws := range m.WebSeeds {
		b.WriteString("&ws=")
		b.WriteString(url.QueryEscape(ws))
	}
	return b.String()
}

// Magnet returns a magnet link for the torrent: its info-hash, name and
// trackers.
func (m *Torrent) Magnet() *Magnet {
	mg := &Magnet{InfoHash: m.InfoHash, Name: m.Name}
	for _, tier := range m.AnnounceList {
		mg.Trackers = append(mg.Trackers, tier...)
	}
	return mg
}

// PeerAddrs returns the x.pe peers that are IP:port addresses (host names
// are skipped: peers are dialled by address).
func (m *Magnet) PeerAddrs() []netip.AddrPort {
	var out []netip.AddrPort
	for _, p := range m.Peers {
		if ap, err := netip.ParseAddrPort(p); err == nil {
			out = append(out, ap)
		}
	}
	return out
}
