package dht

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

var (
	idA = ID([]byte("abcdefghij0123456789"))
	idM = ID([]byte("mnopqrstuvwxyz123456"))
)

// The examples of BEP 5, byte for byte, both ways.
func TestKRPCExamplesOfBEP5(t *testing.T) {
	tests := []struct {
		name string
		wire string
		msg  Msg
	}{
		{"ping query", "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
			Msg{T: []byte("aa"), Y: KindQuery, Q: MethodPing, A: Args{ID: idA}}},
		{"ping response", "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
			Msg{T: []byte("aa"), Y: KindResponse, R: Return{ID: idM}}},
		{"error", "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
			Msg{T: []byte("aa"), Y: KindError, E: Error{Code: 201, Msg: "A Generic Error Ocurred"}}},
		{"find_node", "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
			Msg{T: []byte("aa"), Y: KindQuery, Q: MethodFindNode, A: Args{ID: idA, Target: idM}}},
		{"get_peers", "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe",
			Msg{T: []byte("aa"), Y: KindQuery, Q: MethodGetPeers, A: Args{ID: idA, InfoHash: idM}}},
		{"get_peers values", "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
			Msg{T: []byte("aa"), Y: KindResponse, R: Return{ID: idA, Token: []byte("aoeusnth"), Values: []netip.AddrPort{
				netip.MustParseAddrPort("97.120.106.101:11893"), netip.MustParseAddrPort("105.100.104.116:28269")}}}},
		{"announce_peer", "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
			Msg{T: []byte("aa"), Y: KindQuery, Q: MethodAnnouncePeer, A: Args{ID: idA, InfoHash: idM, Port: 6881, ImpliedPort: true, Token: []byte("aoeusnth")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.wire))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.msg) {
				t.Errorf("Decode:\n got %+v\nwant %+v", *got, tt.msg)
			}
			if enc := tt.msg.Encode(); string(enc) != tt.wire {
				t.Errorf("Encode:\n got %s\nwant %s", enc, tt.wire)
			}
		})
	}
}

func TestKRPCNodesRoundTrip(t *testing.T) {
	m := Msg{T: []byte{0, 1}, Y: KindResponse, IP: netip.MustParseAddrPort("10.0.0.1:5"), R: Return{ID: idA,
		Nodes:  []NodeInfo{{idM, netip.MustParseAddrPort("1.2.3.4:6881")}, {idA, netip.MustParseAddrPort("5.6.7.8:1")}},
		Nodes6: []NodeInfo{{idM, netip.MustParseAddrPort("[2001:db8::1]:6881")}}}}
	got, err := Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, m) {
		t.Errorf("got %+v\nwant %+v", *got, m)
	}
}

// A reply may carry any error code: libtorrent sends 203 for a bad token.
func TestKRPCAcceptsAnyErrorCode(t *testing.T) {
	for _, wire := range []string{"d1:eli203e9:bad tokene1:t2:aa1:y1:ee", "d1:eli-7ee1:t2:aa1:y1:ee", "d1:eli999e0:i1ee1:t2:aa1:y1:ee"} {
		m, err := Decode([]byte(wire))
		if err != nil {
			t.Errorf("%s: %v", wire, err)
			continue
		}
		if m.Y != KindError {
			t.Errorf("%s: kind %c", wire, m.Y)
		}
	}
}

// Hostile input: each is refused with an error that says why, never a
// panic.
func TestKRPCDecodeRefusesHostileInput(t *testing.T) {
	nodes := func(n int) string { return strings.Repeat("x", n) }
	values := func(n int) string { return "l" + strings.Repeat("6:abcdef", n) + "e" }
	r := func(body string) string { return "d1:rd2:id20:abcdefghij0123456789" + body + "e1:t2:aa1:y1:re" }
	tests := []struct{ name, wire, want string }{
		{"empty", "", "want a dictionary"},
		{"not a dict", "le", "want a dictionary"},
		{"truncated", "d1:t2:aa1:y1:q", "unexpected end"},
		{"string longer than datagram", "d1:t99999:aa", "string of 99999 bytes"},
		{"huge string length", "d1:t99999999999999999999:", "too long"},
		{"trailing bytes", "d1:t2:aa1:y1:ee" + "x", ""},
		{"deep nesting", "d1:x" + strings.Repeat("l", 100) + strings.Repeat("e", 100) + "e", "nested deeper"},
		{"no t", "d1:y1:re", `no "t"`},
		{"wrong type t", "d1:ti1e1:y1:re", `"t"`},
		{"wrong type id", "d1:rd2:idi1ee1:t2:aa1:y1:re", `"id"`},
		{"short id", "d1:rd2:id3:abce1:t2:aa1:y1:re", "3 bytes, want 20"},
		{"unknown kind", "d1:t2:aa1:y1:ze", "unknown kind"},
		{"query without a", "d1:q4:ping1:t2:aa1:y1:qe", `without "q" or "a"`},
		{"find_node without target", "d1:ad2:id20:abcdefghij0123456789e1:q9:find_node1:t2:aa1:y1:qe", `no "target"`},
		{"announce without token", "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti1ee1:q13:announce_peer1:t2:aa1:y1:qe", `no "token"`},
		{"port out of range", "d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", "not a port"},
		{"nodes not a multiple of 26", r("5:nodes" + "27:" + nodes(27)), "not a multiple of 26"},
		{"nodes6 not a multiple of 38", r("6:nodes6" + "26:" + nodes(26)), "not a multiple of 38"},
		{"nodes wrong type", r("5:nodesi1e"), `"nodes"`},
		{"values too many", r("6:values" + values(MaxValues+1)), "more than 128 peers"},
		{"values bad length", r("6:valuesl5:abcdee"), "a peer of 5 bytes"},
		{"values wrong type", r("6:values3:abc"), "want a list"},
		{"integer with leading zero", "d2:roi01ee", "bad integer"},
		{"integer overflow", "d2:roi99999999999999999999ee", "bad integer"},
		{"error code not an integer", "d1:el3:abce1:t2:aa1:y1:ee", "want an integer"},
	}
	for _, tt := range tests {
		_, err := Decode([]byte(tt.wire))
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want ErrMalformed mentioning %q", tt.name, err, tt.want)
		}
	}
	if _, err := Decode(make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrMalformed) {
		t.Errorf("oversized datagram: got %v", err)
	}
}

func TestKRPCDecodeDoesNotAliasInput(t *testing.T) {
	wire := []byte("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnthe1:t2:aa1:v4:LT011:y1:re")
	m, err := Decode(wire)
	if err != nil {
		t.Fatal(err)
	}
	for i := range wire {
		wire[i] = 'Z'
	}
	if string(m.T) != "aa" || string(m.R.Token) != "aoeusnth" || string(m.V) != "LT01" {
		t.Errorf("decoded message changed with its buffer: %+v", m)
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts encodes to
// bytes that decode to the same message.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"))
	f.Add([]byte("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re"))
	f.Add([]byte("d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe"))
	f.Add([]byte("d1:eli203e9:bad tokene1:t2:aa1:y1:ee"))
	f.Add(mustEncodeNodes())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		enc := m.Encode()
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decoding %q: %v", enc, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n %+v\n %+v", m, m2)
		}
		if enc2 := m2.Encode(); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n %q\n %q", enc, enc2)
		}
	})
}

func mustEncodeNodes() []byte {
	m := Msg{T: []byte("xy"), Y: KindResponse, R: Return{ID: idA, Token: []byte("tok"),
		Nodes:  []NodeInfo{{idM, netip.MustParseAddrPort("1.2.3.4:6881")}},
		Nodes6: []NodeInfo{{idM, netip.MustParseAddrPort("[::1]:6881")}}}}
	return m.Encode()
}
