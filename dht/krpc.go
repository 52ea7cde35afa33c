package dht

import (
	"errors"
	"fmt"
	"net/netip"
)

// KRPC (BEP 5): every message is one bencoded dictionary in one UDP
// datagram.
//
//	query     d1:ad2:id20:…e1:q4:ping1:t2:aa1:y1:qe
//	response  d1:rd2:id20:…e1:t2:aa1:y1:re
//	error     d1:eli201e13:A Generic Errore1:t2:aa1:y1:ee
//
// t is the transaction id the querier picked and the response echoes; y
// says which of q (query), r (response) or e (error) the message is.

// Message kinds: the "y" key.
const (
	KindQuery    = 'q'
	KindResponse = 'r'
	KindError    = 'e'
)

// Query methods: the "q" key.
const (
	MethodPing         = "ping"
	MethodFindNode     = "find_node"
	MethodGetPeers     = "get_peers"
	MethodAnnouncePeer = "announce_peer"
)

// BEP 5 error codes. Replies may carry any code (libtorrent answers a bad
// token with 203 where BEP 5 says 204 is for unknown methods), so decoding
// accepts any integer.
const (
	ErrCodeGeneric       = 201
	ErrCodeServer        = 202
	ErrCodeProtocol      = 203
	ErrCodeMethodUnknown = 204
)

// Limits on what a decoded message may hold. A datagram larger than
// MaxMessageSize is refused before it is parsed.
const (
	MaxMessageSize = 8192
	MaxValues      = 128 // peers in one get_peers response
	maxTxnLen      = 32  // libtorrent and anacrolix send 2 to 4 bytes
	maxTokenLen    = 64
	maxVersionLen  = 32 // longer "v" values are ignored
	maxMethodLen   = 32
)

// ErrMalformed is wrapped by every error Decode returns.
var ErrMalformed = errors.New("dht: malformed KRPC message")

// Msg is one KRPC message. Decode never returns a Msg that aliases its
// input, so a read buffer can be reused at once.
type Msg struct {
	T  []byte // transaction id
	Y  byte   // KindQuery, KindResponse or KindError
	Q  string // method, for a query
	A  Args   // arguments, for a query
	R  Return // return values, for a response
	E  Error  // for an error
	V  []byte // client version, optional
	IP netip.AddrPort
	RO bool // BEP 43: the querier is read-only, do not add it to tables
}

// Args are a query's arguments. Decode keeps only those the method
// takes; Encode writes only those.
type Args struct {
	ID          ID
	Target      ID     // find_node
	InfoHash    ID     // get_peers, announce_peer
	Token       []byte // announce_peer
	Port        uint16 // announce_peer
	ImpliedPort bool   // announce_peer: use the datagram's source port
}

// Return holds a response's values.
type Return struct {
	ID     ID
	Nodes  []NodeInfo       // compact IPv4 nodes ("nodes")
	Nodes6 []NodeInfo       // compact IPv6 nodes ("nodes6", BEP 32)
	Values []netip.AddrPort // peers (get_peers)
	Token  []byte           // get_peers
}

// Error is the body of a KRPC error message, and the error a query
// returns when the remote node answered with one.
type Error struct {
	Code int64
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("dht: remote error %d: %s", e.Code, e.Msg) }

// Decode parses one datagram. Anything unexpected (bad bencode, a key of
// the wrong type, a missing required key, a "nodes" string whose length is
// not a multiple of 26, more than MaxValues peers) is an error wrapping
// ErrMalformed; unknown keys are skipped.
func Decode(b []byte) (*Msg, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(b), MaxMessageSize)
	}
	m := &Msg{}
	s := &scanner{b: b}
	var hasT, hasA, hasR, hasE bool
	var a, r []byte // raw "a" and "r", parsed once "y" and "q" are known
	err := s.dict(0, func(key []byte, depth int) error {
		var err error
		switch string(key) {
		case "t":
			var t []byte
			t, err = s.str()
			if err == nil && len(t) > maxTxnLen {
				err = fmt.Errorf("%d bytes, more than %d", len(t), maxTxnLen)
			}
			m.T, hasT = clone(t), true
		case "y":
			var y []byte
			if y, err = s.str(); err == nil && (len(y) != 1 || (y[0] != KindQuery && y[0] != KindResponse && y[0] != KindError)) {
				err = fmt.Errorf("unknown kind %.8q", y)
			} else if err == nil {
				m.Y = y[0]
			}
		case "q":
			var q []byte
			if q, err = s.str(); err == nil && len(q) > maxMethodLen {
				err = fmt.Errorf("%d bytes, more than %d", len(q), maxMethodLen)
			}
			m.Q = string(q)
		case "a":
			a, err = s.raw(depth)
			hasA = true
		case "r":
			r, err = s.raw(depth)
			hasR = true
		case "e":
			err = m.E.decode(s, depth)
			hasE = true
		case "v":
			var v []byte
			if v, err = s.str(); err == nil && len(v) <= maxVersionLen {
				m.V = clone(v)
			}
		case "ip":
			var ip []byte
			if ip, err = s.str(); err == nil && (len(ip) == compactPeer4 || len(ip) == compactPeer6) {
				m.IP = parseAddrPort(ip)
			}
		case "ro":
			var ro int64
			ro, err = s.int()
			m.RO = ro == 1
		default:
			err = s.skip(depth)
		}
		if err != nil {
			return fmt.Errorf("key %.32q: %w", key, err)
		}
		return nil
	})
	if err == nil && s.i != len(b) {
		err = fmt.Errorf("%d bytes after the message", len(b)-s.i)
	}
	if err == nil {
		err = m.decodeBody(hasT, hasA, hasR, hasE, a, r)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return m, nil
}

// raw consumes one value and returns its bytes, to be parsed later.
func (s *scanner) raw(depth int) ([]byte, error) {
	start := s.i
	if err := s.skip(depth); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// decodeBody checks that the keys the kind needs are there and parses
// the arguments or return values.
func (m *Msg) decodeBody(hasT, hasA, hasR, hasE bool, a, r []byte) error {
	if !hasT {
		return errors.New(`no "t"`)
	}
	switch m.Y {
	case KindQuery:
		if m.Q == "" || !hasA {
			return errors.New(`query without "q" or "a"`)
		}
		if err := m.A.decode(&scanner{b: a}, m.Q); err != nil {
			return fmt.Errorf("%s arguments: %w", m.Q, err)
		}
		m.Q = knownMethod(m.Q)
	case KindResponse:
		if !hasR {
			return errors.New(`response without "r"`)
		}
		if err := m.R.decode(&scanner{b: r}); err != nil {
			return fmt.Errorf("response: %w", err)
		}
	case KindError:
		if !hasE {
			return errors.New(`error without "e"`)
		}
	default:
		return errors.New(`no "y"`)
	}
	if m.Y != KindQuery {
		m.Q = ""
	}
	if m.Y != KindError {
		m.E = Error{}
	}
	return nil
}

// knownMethod returns q as a constant string when it is one of ours, so
// that the decoded message does not keep a fresh allocation per query.
func knownMethod(q string) string {
	for _, k := range [...]string{MethodPing, MethodFindNode, MethodGetPeers, MethodAnnouncePeer} {
		if q == k {
			return k
		}
	}
	return q
}

// required names the keys each known method must carry besides "id".
var required = map[string][]string{
	MethodFindNode:     {"target"},
	MethodGetPeers:     {"info_hash"},
	MethodAnnouncePeer: {"info_hash", "token"},
}

func (a *Args) decode(s *scanner, method string) error {
	seen := map[string]bool{}
	var port int64 = -1
	var implied int64
	err := s.dict(1, func(key []byte, depth int) error {
		var err error
		k := string(key)
		switch k {
		case "id", "target", "info_hash":
			var id ID
			id, err = s.id()
			seen[k] = err == nil
			switch k {
			case "id":
				a.ID = id
			case "target":
				a.Target = id
			default:
				a.InfoHash = id
			}
		case "token":
			var tok []byte
			if tok, err = s.str(); err == nil && (len(tok) == 0 || len(tok) > maxTokenLen) {
				err = fmt.Errorf("%d bytes, want 1 to %d", len(tok), maxTokenLen)
			}
			a.Token, seen[k] = clone(tok), err == nil
		case "port":
			if port, err = s.int(); err == nil && (port < 0 || port > 65535) {
				err = fmt.Errorf("%d is not a port", port)
			}
		case "implied_port":
			implied, err = s.int()
		default:
			err = s.skip(depth)
		}
		if err != nil {
			return fmt.Errorf("%.32q: %w", key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !seen["id"] {
		return errors.New(`no "id"`)
	}
	for _, k := range required[method] {
		if !seen[k] {
			return fmt.Errorf("no %q", k)
		}
	}
	a.keepOnly(method, port, implied != 0)
	if method == MethodAnnouncePeer && port < 0 && !a.ImpliedPort {
		return errors.New(`no "port" and no "implied_port"`)
	}
	return nil
}

// keepOnly drops the arguments method does not take, so that a decoded
// query encodes back to the same message.
func (a *Args) keepOnly(method string, port int64, implied bool) {
	id := a.ID
	switch method {
	case MethodFindNode:
		*a = Args{ID: id, Target: a.Target}
	case MethodGetPeers:
		*a = Args{ID: id, InfoHash: a.InfoHash}
	case MethodAnnouncePeer:
		*a = Args{ID: id, InfoHash: a.InfoHash, Token: a.Token, Port: uint16(max(port, 0)), ImpliedPort: implied}
	default:
		*a = Args{ID: id}
	}
}

func (r *Return) decode(s *scanner) error {
	hasID := false
	err := s.dict(1, func(key []byte, depth int) error {
		var err error
		switch string(key) {
		case "id":
			r.ID, err = s.id()
			hasID = err == nil
		case "nodes", "nodes6":
			size := compactNode4
			if len(key) == 6 {
				size = compactNode6
			}
			var b []byte
			var nodes []NodeInfo
			if b, err = s.str(); err == nil {
				nodes, err = parseNodes(b, size)
			}
			if size == compactNode4 {
				r.Nodes = nodes
			} else {
				r.Nodes6 = nodes
			}
		case "token":
			var tok []byte
			if tok, err = s.str(); err == nil && len(tok) > maxTokenLen {
				err = fmt.Errorf("%d bytes, more than %d", len(tok), maxTokenLen)
			}
			r.Token = clone(tok)
		case "values":
			r.Values, err = s.values(depth)
		default:
			err = s.skip(depth)
		}
		if err != nil {
			return fmt.Errorf("%.32q: %w", key, err)
		}
		return nil
	})
	if err == nil && !hasID {
		err = errors.New(`no "id"`)
	}
	return err
}

// values reads a list of compact peers, at most MaxValues of them.
func (s *scanner) values(depth int) ([]netip.AddrPort, error) {
	var peers []netip.AddrPort
	err := s.list(depth, func(int) error {
		if len(peers) == MaxValues {
			return fmt.Errorf("more than %d peers", MaxValues)
		}
		b, err := s.str()
		if err != nil {
			return err
		}
		if len(b) != compactPeer4 && len(b) != compactPeer6 {
			return fmt.Errorf("a peer of %d bytes, want %d or %d", len(b), compactPeer4, compactPeer6)
		}
		peers = append(peers, parseAddrPort(b))
		return nil
	})
	return peers, err
}

func (s *scanner) id() (ID, error) {
	var id ID
	b, err := s.str()
	if err == nil && len(b) != len(id) {
		err = fmt.Errorf("%d bytes, want %d", len(b), len(id))
	}
	copy(id[:], b)
	return id, err
}

// decode reads "e": a list of a code and a message. Any code is
// accepted; a missing message is empty, extra elements are skipped.
func (e *Error) decode(s *scanner, depth int) error {
	i := 0
	return s.list(depth, func(depth int) error {
		var err error
		switch i {
		case 0:
			e.Code, err = s.int()
		case 1:
			var msg []byte
			msg, err = s.str()
			e.Msg = string(msg[:min(len(msg), 256)])
		default:
			err = s.skip(depth)
		}
		i++
		return err
	})
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
