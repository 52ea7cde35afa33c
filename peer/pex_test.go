package peer

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

const ip6 = "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" // 2001:db8::1

func TestAppendPexMsgBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  PexMsg
		body string
	}{
		{"empty", PexMsg{}, "d5:added0:7:added.f0:7:dropped0:e"},
		{"mixed", PexMsg{
			Added:   []netip.AddrPort{ap("1.2.3.4:6881"), ap("[2001:db8::1]:51413")},
			Flags:   []PexFlags{PexSeed | PexReachable, PexUTP},
			Dropped: []netip.AddrPort{ap("5.6.7.8:80"), ap("[2001:db8::1]:1")},
		}, "d5:added6:\x01\x02\x03\x04\x1a\xe17:added.f1:\x12" +
			"6:added618:" + ip6 + "\xc8\xd58:added6.f1:\x04" +
			"7:dropped6:\x05\x06\x07\x08\x00\x50" + "8:dropped618:" + ip6 + "\x00\x01e"},
		{"IPv4-mapped is IPv4, missing flags are 0, invalid skipped", PexMsg{
			Added: []netip.AddrPort{ap("[::ffff:1.2.3.4]:6881"), {}, ap("9.9.9.9:1")},
			Flags: []PexFlags{PexEncryption},
		}, "d5:added12:\x01\x02\x03\x04\x1a\xe1\x09\x09\x09\x09\x00\x017:added.f2:\x01\x007:dropped0:e"},
	} {
		got := AppendPexMsg([]byte("x"), 3, tc.msg)
		want := "x" + string(AppendExtended(nil, 3, []byte(tc.body)))
		if string(got) != want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, want)
		}
	}
}

func TestPexMsgRoundTrip(t *testing.T) {
	m := PexMsg{
		Added:   []netip.AddrPort{ap("1.2.3.4:6881"), ap("10.0.0.1:1"), ap("[2001:db8::1]:51413")},
		Flags:   []PexFlags{PexSeed, 0xE0, PexHolepunch},
		Dropped: []netip.AddrPort{ap("5.6.7.8:80"), ap("[::1]:9")},
	}
	frame := AppendPexMsg(nil, 7, m)
	msg, n, err := ParseMessage(frame, Limits{})
	if err != nil || n != len(frame) || msg.ExtID != 7 {
		t.Fatalf("ParseMessage: %v, %d, %v", msg, n, err)
	}
	got, err := ParsePexMsg(msg.Payload)
	if err != nil || !equalPex(got, m) {
		t.Fatalf("got %+v, %v; want %+v", got, err, m)
	}
}

func equalPex(a, b PexMsg) bool {
	return slices.Equal(a.Added, b.Added) && slices.Equal(a.Flags, b.Flags) && slices.Equal(a.Dropped, b.Dropped)
}

func compact4(addrs ...string) string {
	var b []byte
	for _, s := range addrs {
		a := ap(s)
		ip := a.Addr().As4()
		b = append(append(b, ip[:]...), byte(a.Port()>>8), byte(a.Port()))
	}
	return string(b)
}

func bstr(s string) string { return strconv.Itoa(len(s)) + ":" + s }

func TestParsePexMsgLenient(t *testing.T) {
	mapped := "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x0b\x0c\x0d\x0e\x00\x07" // ::ffff:11.12.13.14 port 7
	for _, tc := range []struct {
		name, payload string
		want          PexMsg
	}{
		{"empty dictionary", "de", PexMsg{}},
		{"no added.f: no flags",
			"d5:added" + bstr(compact4("1.2.3.4:1", "1.2.3.5:2")) + "e",
			PexMsg{Added: []netip.AddrPort{ap("1.2.3.4:1"), ap("1.2.3.5:2")}, Flags: []PexFlags{0, 0}}},
		{"short added.f: the rest have none",
			"d5:added" + bstr(compact4("1.2.3.4:1", "1.2.3.5:2")) + "7:added.f1:\x02e",
			PexMsg{Added: []netip.AddrPort{ap("1.2.3.4:1"), ap("1.2.3.5:2")}, Flags: []PexFlags{2, 0}}},
		{"long added.f: the excess ignored",
			"d5:added" + bstr(compact4("1.2.3.4:1")) + "7:added.f3:\x02\x04\x08e",
			PexMsg{Added: []netip.AddrPort{ap("1.2.3.4:1")}, Flags: []PexFlags{2}}},
		{"port 0 and 0.0.0.0 left out with their flags",
			"d5:added" + bstr(compact4("1.2.3.4:0", "0.0.0.0:5", "1.2.3.6:3")) + "7:added.f3:\x01\x02\x04" +
				"7:dropped" + bstr(compact4("0.0.0.0:1", "7.7.7.7:0", "7.7.7.7:7")) + "e",
			PexMsg{Added: []netip.AddrPort{ap("1.2.3.6:3")}, Flags: []PexFlags{4},
				Dropped: []netip.AddrPort{ap("7.7.7.7:7")}}},
		{"IPv4-mapped in added6 is IPv4, after added's IPv4 and before IPv6",
			"d5:added" + bstr(compact4("1.2.3.4:1")) + "7:added.f1:\x01" +
				"6:added636:" + ip6 + "\x00\x09" + mapped + "8:added6.f2:\x10\x02" +
				"8:dropped618:" + mapped + "e",
			PexMsg{Added: []netip.AddrPort{ap("1.2.3.4:1"), ap("11.12.13.14:7"), ap("[2001:db8::1]:9")},
				Flags:   []PexFlags{1, 2, 0x10},
				Dropped: []netip.AddrPort{ap("11.12.13.14:7")}}},
		{"unknown keys of any type ignored",
			"d5:added" + bstr(compact4("1.2.3.4:1")) + "1:xd1:yli1eee1:zi-5ee",
			PexMsg{Added: []netip.AddrPort{ap("1.2.3.4:1")}, Flags: []PexFlags{0}}},
	} {
		got, err := ParsePexMsg([]byte(tc.payload))
		if err != nil || !equalPex(got, tc.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestParsePexMsgCapsEachFamily(t *testing.T) {
	var v4, v6 []byte
	for i := range MaxPexPeers + 50 {
		v4 = append(v4, 10, 0, byte(i>>8), byte(i), 0, 1)
		v6 = append(v6, ip6[:14]...)
		v6 = append(v6, byte(i>>8), byte(i), 0, 1)
	}
	payload := "d5:added" + bstr(string(v4)) + "6:added6" + bstr(string(v6)) + "7:dropped" + bstr(string(v4)) + "e"
	m, err := ParsePexMsg([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Added) != 2*MaxPexPeers || len(m.Flags) != 2*MaxPexPeers || len(m.Dropped) != MaxPexPeers {
		t.Fatalf("got %d added, %d flags, %d dropped; want %d, %d, %d",
			len(m.Added), len(m.Flags), len(m.Dropped), 2*MaxPexPeers, 2*MaxPexPeers, MaxPexPeers)
	}
	if last := m.Added[MaxPexPeers-1]; last != ap("10.0.0.199:1") {
		t.Errorf("last IPv4 kept: got %v, want the 200th sent, 10.0.0.199:1", last)
	}
	if first6 := m.Added[MaxPexPeers]; !first6.Addr().Is6() {
		t.Errorf("after the IPv4 peers: got %v, want the first IPv6 one", first6)
	}
}

func TestParsePexMsgErrors(t *testing.T) {
	for _, tc := range []struct{ name, payload string }{
		{"empty", ""},
		{"a list", "le"},
		{"an integer", "i3e"},
		{"added not a multiple of 6", "d5:added5:abcdee"},
		{"added6 not a multiple of 18", "d6:added617:" + ip6[:15] + "\x00\x01e"},
		{"dropped not a multiple of 6", "d7:dropped7:abcdefge"},
		{"dropped6 not a multiple of 18", "d8:dropped61:xe"},
		{"added an integer", "d5:addedi3ee"},
		{"trailing bytes", "d5:added0:ee"},
		{"truncated", "d5:added6:abc"},
		{"over MaxPexMessage", "d1:x" + bstr(strings.Repeat("a", MaxPexMessage)) + "e"},
	} {
		if m, err := ParsePexMsg([]byte(tc.payload)); !errors.Is(err, ErrBadExtension) {
			t.Errorf("%s: got %+v, %v; want ErrBadExtension", tc.name, m, err)
		}
	}
}

func TestAppendPexMsgAppends(t *testing.T) {
	prefix := []byte("abc")
	got := AppendPexMsg(bytes.Clone(prefix), 1, PexMsg{Added: []netip.AddrPort{ap("1.1.1.1:1")}})
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("prefix lost: %q", got)
	}
	if _, n, err := ParseMessage(got[3:], Limits{}); err != nil || n != len(got)-3 {
		t.Fatalf("frame after the prefix: n = %d, %v", n, err)
	}
}
