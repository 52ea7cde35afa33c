package dht

// AppendEncode appends m, bencoded, to b. Keys are written in the sorted
// order bencode requires; a query carries only its method's arguments,
// and empty optional values are left out, so Decode(Encode(m)) is m for
// any m that Decode returned.
func (m *Msg) AppendEncode(b []byte) []byte {
	b = append(b, 'd')
	if m.Y == KindQuery {
		b = appendKey(b, "a")
		b = m.A.appendEncode(b, m.Q)
	}
	if m.Y == KindError {
		b = appendKey(b, "e")
		b = append(b, 'l')
		b = appendInt(b, m.E.Code)
		b = appendStr(b, []byte(m.E.Msg))
		b = append(b, 'e')
	}
	if m.IP.IsValid() {
		b = appendKey(b, "ip")
		b = appendStr(b, appendAddrPort(nil, m.IP))
	}
	if m.Y == KindQuery {
		b = appendKey(b, "q")
		b = appendStr(b, []byte(m.Q))
	}
	if m.Y == KindResponse {
		b = appendKey(b, "r")
		b = m.R.appendEncode(b)
	}
	if m.RO {
		b = appendKey(b, "ro")
		b = appendInt(b, 1)
	}
	b = appendKey(b, "t")
	b = appendStr(b, m.T)
	if len(m.V) > 0 {
		b = appendKey(b, "v")
		b = appendStr(b, m.V)
	}
	b = appendKey(b, "y")
	b = appendStr(b, []byte{m.Y})
	return append(b, 'e')
}

// Encode returns m bencoded.
func (m *Msg) Encode() []byte { return m.AppendEncode(make([]byte, 0, 256)) }

func (a *Args) appendEncode(b []byte, method string) []byte {
	b = append(b, 'd')
	b = appendKey(b, "id")
	b = appendStr(b, a.ID[:])
	switch method {
	case MethodFindNode:
		b = appendKey(b, "target")
		b = appendStr(b, a.Target[:])
	case MethodGetPeers:
		b = appendKey(b, "info_hash")
		b = appendStr(b, a.InfoHash[:])
	case MethodAnnouncePeer:
		if a.ImpliedPort {
			b = appendKey(b, "implied_port")
			b = appendInt(b, 1)
		}
		b = appendKey(b, "info_hash")
		b = appendStr(b, a.InfoHash[:])
		b = appendKey(b, "port")
		b = appendInt(b, int64(a.Port))
		b = appendKey(b, "token")
		b = appendStr(b, a.Token)
	}
	return append(b, 'e')
}

func (r *Return) appendEncode(b []byte) []byte {
	b = append(b, 'd')
	b = appendKey(b, "id")
	b = appendStr(b, r.ID[:])
	if len(r.Nodes) > 0 {
		b = appendKey(b, "nodes")
		b = appendStr(b, appendNodes(nil, r.Nodes, false))
	}
	if len(r.Nodes6) > 0 {
		b = appendKey(b, "nodes6")
		b = appendStr(b, appendNodes(nil, r.Nodes6, true))
	}
	if len(r.Token) > 0 {
		b = appendKey(b, "token")
		b = appendStr(b, r.Token)
	}
	if len(r.Values) > 0 {
		b = appendKey(b, "values")
		b = append(b, 'l')
		for _, p := range r.Values {
			b = appendStr(b, appendAddrPort(nil, p))
		}
		b = append(b, 'e')
	}
	return append(b, 'e')
}
