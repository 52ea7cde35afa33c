package dht

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// onLoop runs fn in a task on a fresh loop with virtual time.
func onLoop(t *testing.T, fn func(t *aio.Task) error) {
	t.Helper()
	_, err := aio.Run(func(t *aio.Task) (struct{}, error) { return struct{}{}, fn(t) }, aio.WithVirtualTime())
	if err != nil {
		t.Fatal(err)
	}
}

// sent takes the datagrams a node has queued, decoded.
func sent(t *testing.T, n *Node) []datagramMsg {
	t.Helper()
	var out []datagramMsg
	for {
		d, ok := n.out.TryGet()
		if !ok {
			return out
		}
		m, err := Decode(d.b)
		if err != nil {
			t.Fatalf("the node sent a message it cannot decode: %v", err)
		}
		out = append(out, datagramMsg{m, d.to})
	}
}

type datagramMsg struct {
	m  *Msg
	to netip.AddrPort
}

func query(method string, a Args) []byte {
	m := &Msg{T: []byte("qq"), Y: KindQuery, Q: method, A: a}
	return m.Encode()
}

var (
	hostA = netip.MustParseAddrPort("10.0.0.1:4000")
	hostB = netip.MustParseAddrPort("10.0.0.2:4000")
)

func TestNodeAnswersTheFourQueries(t *testing.T) {
	onLoop(t, func(task *aio.Task) error {
		n := New(task.Loop(), Config{})
		ih := RandomID()
		n.HandleDatagram(hostA, query(MethodPing, Args{ID: idA}))
		n.HandleDatagram(hostA, query(MethodFindNode, Args{ID: idA, Target: idM}))
		n.HandleDatagram(hostA, query(MethodGetPeers, Args{ID: idA, InfoHash: ih}))
		n.HandleDatagram(hostA, query("vote", Args{ID: idA}))
		var replies []*Msg
		for _, d := range sent(t, n) {
			if d.m.Y != KindQuery { // the node also pings the unknown asker
				replies = append(replies, d.m)
			}
		}
		if len(replies) != 4 {
			t.Fatalf("got %d replies, want 4", len(replies))
		}
		for i, r := range replies[:3] {
			if r.Y != KindResponse || r.R.ID != n.ID() || string(r.T) != "qq" || r.IP != hostA {
				t.Errorf("reply %d: %+v", i, r)
			}
		}
		if len(replies[2].R.Token) == 0 {
			t.Error("get_peers answer without a token")
		}
		if replies[3].Y != KindError || replies[3].E.Code != ErrCodeMethodUnknown {
			t.Errorf("unknown method: got %+v, want error 204", replies[3])
		}
		return nil
	})
}

// Tokens from other IPs: a token given to A does not let B announce.
func TestNodeTokenFromAnotherIPIsRefused(t *testing.T) {
	onLoop(t, func(task *aio.Task) error {
		n := New(task.Loop(), Config{})
		ih := RandomID()
		n.HandleDatagram(hostA, query(MethodGetPeers, Args{ID: idA, InfoHash: ih}))
		var token []byte
		for _, d := range sent(t, n) {
			if d.m.Y == KindResponse {
				token = d.m.R.Token
			}
		}
		announce := Args{ID: idM, InfoHash: ih, Token: token, Port: 6881}
		n.HandleDatagram(hostB, query(MethodAnnouncePeer, announce))
		got := sent(t, n)
		if len(got) == 0 || got[len(got)-1].m.Y != KindError || got[len(got)-1].m.E.Code != ErrCodeProtocol {
			t.Errorf("announce with A's token from B: got %+v, want error 203", got)
		}
		if _, peers := n.StoredPeers(); peers != 0 {
			t.Errorf("stored %d peers from a forged announce", peers)
		}
		announce.ID = idA
		n.HandleDatagram(hostA, query(MethodAnnouncePeer, announce))
		n.HandleDatagram(hostA, query(MethodGetPeers, Args{ID: idA, InfoHash: ih}))
		var values []netip.AddrPort
		for _, d := range sent(t, n) {
			if d.m.Y == KindError {
				t.Errorf("A's own announce refused: %v", &d.m.E)
			}
			values = append(values, d.m.R.Values...)
		}
		want := netip.AddrPortFrom(hostA.Addr(), 6881)
		if len(values) != 1 || values[0] != want {
			t.Errorf("values = %v, want [%v]", values, want)
		}
		return nil
	})
}

// Malformed bencode, wrong types, a bad nodes length, huge values: each
// is counted and dropped; nothing is answered or allocated for it.
func TestNodeDropsHostileDatagrams(t *testing.T) {
	onLoop(t, func(task *aio.Task) error {
		n := New(task.Loop(), Config{})
		hostile := []string{
			"", "d", "i1e", "d1:t2:aa1:y1:q1:q4:ping1:ad2:idi5eee",
			"d1:rd2:id20:abcdefghij01234567895:nodes5:abcdee1:t2:aa1:y1:re",
			"d1:rd2:id20:abcdefghij01234567896:valuesl" + strings.Repeat("6:abcdef", 1000) + "ee1:t2:aa1:y1:re",
			"d1:t" + strings.Repeat("9", 30) + ":x1:y1:qe",
			"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe" + "trailing",
		}
		for _, h := range hostile {
			n.HandleDatagram(hostA, []byte(h))
		}
		if s := n.Stats(); s.Malformed != len(hostile) {
			t.Errorf("malformed = %d, want %d", s.Malformed, len(hostile))
		}
		if got := sent(t, n); len(got) != 0 {
			t.Errorf("the node answered hostile datagrams: %v", got)
		}
		if n.table.Len() != 0 || len(n.pending) != 0 {
			t.Errorf("state grew: table %d, pending %d", n.table.Len(), len(n.pending))
		}
		return nil
	})
}

// Replies to queries never sent, and replies from an address other than
// the one asked, are dropped and change nothing.
func TestNodeDropsUnsolicitedReplies(t *testing.T) {
	onLoop(t, func(task *aio.Task) error {
		n := New(task.Loop(), Config{})
		reply := func(txn []byte) []byte {
			m := &Msg{T: txn, Y: KindResponse, R: Return{ID: idA, Nodes: []NodeInfo{{idM, hostB}}}}
			return m.Encode()
		}
		n.HandleDatagram(hostA, reply([]byte{0, 0}))
		n.HandleDatagram(hostA, reply([]byte("long transaction")))
		n.HandleDatagram(hostA, (&Msg{T: []byte{0, 0}, Y: KindError, E: Error{Code: 201}}).Encode())
		var got error = errors.New("not answered")
		if err := n.startQuery(hostA, MethodPing, Args{}, func(_ *Msg, err error) { got = err }); err != nil {
			return err
		}
		txn := sent(t, n)[0].m.T
		n.HandleDatagram(hostB, reply(txn)) // right transaction, wrong address
		if s := n.Stats(); s.Unsolicited != 4 {
			t.Errorf("unsolicited = %d, want 4", s.Unsolicited)
		}
		if n.table.Len() != 0 || len(n.pending) != 1 {
			t.Errorf("table %d, pending %d; want 0, 1", n.table.Len(), len(n.pending))
		}
		n.HandleDatagram(hostA, reply(txn))
		if got != nil || n.table.Len() != 1 || len(n.pending) != 0 {
			t.Errorf("the real answer: err %v, table %d, pending %d", got, n.table.Len(), len(n.pending))
		}
		return nil
	})
}

// A flood of 10,000 queries from one address: a burst is answered, the
// rest dropped, and the node's state holds at most one entry for it.
func TestNodeFloodFromOneAddressDoesNotGrowMemory(t *testing.T) {
	onLoop(t, func(task *aio.Task) error {
		n := New(task.Loop(), Config{MaxTorrents: 10, MaxPeers: 5})
		for i := range 10000 {
			method := []string{MethodPing, MethodFindNode, MethodGetPeers, MethodAnnouncePeer}[i%4]
			args := Args{ID: RandomID(), Target: RandomID(), InfoHash: RandomID(), Token: []byte("forged"), Port: 1}
			n.HandleDatagram(hostA, query(method, args))
			if i%sendQueueLen == 0 {
				sent(t, n) // the sender drains the queue meanwhile
			}
		}
		s := n.Stats()
		if s.Limited < 10000-n.cfg.RateBurst-1 {
			t.Errorf("limited = %d of 10000, want all but the burst of %d", s.Limited, n.cfg.RateBurst)
		}
		torrents, peers := n.StoredPeers()
		if len(n.limit.ips) != 1 || len(n.pending) > 1 || n.table.Len() > 1 || torrents+peers != 0 {
			t.Errorf("state after the flood: limiter %d, pending %d, table %d, store %d/%d",
				len(n.limit.ips), len(n.pending), n.table.Len(), torrents, peers)
		}
		return nil
	})
}

// A flood from many addresses with valid tokens: the store stays within
// its bounds, and the rate limiter within its own.
func TestNodeFloodFromManyAddressesStaysBounded(t *testing.T) {
	onLoop(t, func(task *aio.Task) error {
		n := New(task.Loop(), Config{MaxTorrents: 10, MaxPeers: 5})
		for i := range 10000 {
			from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 7000)
			ih := ID{byte(i % 50)}
			tok := n.tokens.token(from.Addr(), ih)
			n.HandleDatagram(from, query(MethodAnnouncePeer, Args{ID: RandomID(), InfoHash: ih, Token: tok, Port: 1}))
			sent(t, n)
		}
		torrents, peers := n.StoredPeers()
		if torrents > 10 || peers > 10*5 || len(n.limit.ips) > maxLimited || len(n.pending) > maxPending {
			t.Errorf("store %d torrents %d peers, limiter %d, pending %d", torrents, peers, len(n.limit.ips), len(n.pending))
		}
		if s := n.Stats(); s.Refused == 0 || s.Announces == 0 {
			t.Errorf("announces %d, refused %d: want both", s.Announces, s.Refused)
		}
		return nil
	})
}

// A query carrying our own id is not answered: a node never talks to
// itself, so it can never be its own peer either.
func TestNodeIgnoresQueriesWithItsOwnID(t *testing.T) {
	onLoop(t, func(task *aio.Task) error {
		n := New(task.Loop(), Config{})
		n.HandleDatagram(hostA, query(MethodGetPeers, Args{ID: n.ID(), InfoHash: idM}))
		if got := sent(t, n); len(got) != 0 {
			t.Errorf("answered itself: %v", got)
		}
		return nil
	})
}

// A query nobody answers ends with ErrQueryTimeout after QueryTimeout
// (virtual time), and the silent node is marked as having failed.
func TestNodeQueryTimesOut(t *testing.T) {
	onLoop(t, func(task *aio.Task) error {
		conn, err := aio.ListenUDP(task, loopback)
		if err != nil {
			return err
		}
		defer conn.Close()
		silent, err := aio.ListenUDP(task, loopback) // bound, never read
		if err != nil {
			return err
		}
		defer silent.Close()
		n := New(task.Loop(), Config{QueryTimeout: 5 * time.Second})
		serve := aio.Spawn(task, "node", func(t *aio.Task) (struct{}, error) { return struct{}{}, n.Run(t, conn) })
		defer serve.Cancel()
		start := task.Loop().Now()
		_, err = n.Ping(task, silent.LocalAddr())
		if !errors.Is(err, ErrQueryTimeout) {
			return fmt.Errorf("ping of a silent node: %v, want ErrQueryTimeout", err)
		}
		if waited := task.Loop().Now().Sub(start); waited < 5*time.Second {
			t.Errorf("timed out after %v, want 5s", waited)
		}
		if n.Stats().Timeouts != 1 || len(n.pending) != 0 {
			t.Errorf("timeouts %d, pending %d", n.Stats().Timeouts, len(n.pending))
		}
		return nil
	})
}
