package dht

import (
	"errors"
	"fmt"
	"net/netip"
)

// State is what a node keeps across runs: its id, so that the nodes that
// know it still do, and the nodes of its table, so that a restart needs
// no router. The caller decides where it lives and reads and writes the
// file on the executor; Encode and DecodeState only turn it into bytes.
//
// The encoding is a bencoded dictionary, the same compact forms KRPC
// uses:
//
//	d2:id20:<id>5:nodes<26 bytes each>6:nodes6<38 bytes each>e
type State struct {
	ID    ID
	Nodes []NodeInfo
}

// maxStateNodes bounds what a state file may hold (160 buckets of K).
const maxStateNodes = 160 * K

// State returns the node's id and the nodes of its table.
func (n *Node) State() State { return State{ID: n.cfg.ID, Nodes: n.table.Nodes()} }

// Encode returns s bencoded.
func (s State) Encode() []byte {
	var v4, v6 []NodeInfo
	for _, nd := range s.Nodes {
		if is6(nd.Addr) {
			v6 = append(v6, nd)
		} else {
			v4 = append(v4, nd)
		}
	}
	b := []byte{'d'}
	b = appendKey(b, "id")
	b = appendStr(b, s.ID[:])
	b = appendKey(b, "nodes")
	b = appendStr(b, appendNodes(nil, v4, false))
	b = appendKey(b, "nodes6")
	b = appendStr(b, appendNodes(nil, v6, true))
	return append(b, 'e')
}

// DecodeState parses what Encode wrote. A node with an unusable address
// is left out; a file with no id is an error.
func DecodeState(b []byte) (State, error) {
	var s State
	sc := &scanner{b: b}
	hasID := false
	err := sc.dict(0, func(key []byte, depth int) error {
		switch string(key) {
		case "id":
			var err error
			s.ID, err = sc.id()
			hasID = err == nil
			return err
		case "nodes", "nodes6":
			size := compactNode4
			if len(key) == 6 {
				size = compactNode6
			}
			raw, err := sc.str()
			if err != nil {
				return err
			}
			nodes, err := parseNodes(raw, size)
			for _, nd := range nodes {
				if usable(nd.Addr) && len(s.Nodes) < maxStateNodes {
					s.Nodes = append(s.Nodes, nd)
				}
			}
			return err
		}
		return sc.skip(depth)
	})
	if err == nil && !hasID {
		err = errors.New("no id")
	}
	if err != nil {
		return State{}, fmt.Errorf("dht: state: %w", err)
	}
	return s, nil
}

// Addrs returns the addresses of the saved nodes, to Bootstrap from.
func (s State) Addrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(s.Nodes))
	for i, nd := range s.Nodes {
		out[i] = nd.Addr
	}
	return out
}
