package dht

import (
	"net/netip"
)

// The server side: answering the four BEP 5 queries. Every query is
// rate-limited per source IP before anything else is done with it.

func (n *Node) handleQuery(from netip.AddrPort, m *Msg) {
	now := n.loop.Now()
	if !n.limit.allow(from.Addr(), now) {
		n.stats.Limited++
		return
	}
	if m.A.ID == n.cfg.ID {
		return // ourselves, or someone using our id
	}
	asker := NodeInfo{ID: m.A.ID, Addr: from}
	if !m.RO && !n.table.Queried(asker, now) && !n.verifying[from] && n.table.Wants(asker.ID, now) {
		// Anyone can claim any id in a query: a node joins the table
		// only once it answers one of ours. One ping per address at a
		// time, however many ids it claims.
		if n.startQuery(from, MethodPing, Args{}, func(*Msg, error) { delete(n.verifying, from) }) == nil {
			n.verifying[from] = true
		}
	}
	reply := &Msg{T: m.T, Y: KindResponse, IP: from, R: Return{ID: n.cfg.ID}}
	switch m.Q {
	case MethodPing:
	case MethodFindNode:
		n.closestFor(&reply.R, m.A.Target, from)
	case MethodGetPeers:
		reply.R.Token = n.tokens.token(from.Addr(), m.A.InfoHash)
		reply.R.Values = n.store.get(m.A.InfoHash, now, n.cfg.MaxReplyValues)
		n.closestFor(&reply.R, m.A.InfoHash, from)
	case MethodAnnouncePeer:
		if e := n.announced(from, m); e != nil {
			reply = &Msg{T: m.T, Y: KindError, E: *e}
		}
	default:
		reply = &Msg{T: m.T, Y: KindError, E: Error{Code: ErrCodeMethodUnknown, Msg: "Method Unknown"}}
	}
	n.send(reply, from)
}

// closestFor fills r with the K nodes closest to target that the asker
// can reach: IPv4 nodes for an IPv4 asker, IPv6 ones for IPv6 (BEP 32).
func (n *Node) closestFor(r *Return, target ID, from netip.AddrPort) {
	v6 := is6(from)
	for _, c := range n.table.Closest(target, 4*K, n.loop.Now()) {
		if is6(c.Addr) != v6 || c.Addr == from {
			continue
		}
		if v6 {
			r.Nodes6 = append(r.Nodes6, c)
		} else {
			r.Nodes = append(r.Nodes, c)
		}
		if len(r.Nodes)+len(r.Nodes6) == K {
			return
		}
	}
}

// announced checks and stores an announce_peer, or says why not.
func (n *Node) announced(from netip.AddrPort, m *Msg) *Error {
	if !n.tokens.valid(m.A.Token, from.Addr(), m.A.InfoHash) {
		n.stats.BadTokens++
		return &Error{Code: ErrCodeProtocol, Msg: "bad token"}
	}
	port := m.A.Port
	if m.A.ImpliedPort {
		port = from.Port()
	}
	peer := netip.AddrPortFrom(from.Addr(), port)
	if !usable(peer) {
		return &Error{Code: ErrCodeProtocol, Msg: "bad port"}
	}
	if !n.store.add(m.A.InfoHash, peer, n.loop.Now()) {
		n.stats.Refused++
		return &Error{Code: ErrCodeServer, Msg: "peer store full"}
	}
	n.stats.Announces++
	return nil
}
