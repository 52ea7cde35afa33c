package peer

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

var loopback = netip.MustParseAddrPort("127.0.0.1:0")

// runLoop runs fn as the main task of a fresh loop and fails the test if
// it errs or the loop is still running after 20 seconds (a hang, reported
// as such instead of as the test binary's timeout).
func runLoop(t testing.TB, fn func(t *aio.Task) error, opts ...aio.Option) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := aio.Run(func(t *aio.Task) (struct{}, error) { return struct{}{}, fn(t) }, opts...)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("loop still running after 20s")
	}
}

// testPeers returns two handshakes for one torrent, as two clients with
// different extensions would send them.
func testPeers() (a, b Handshake) {
	a, _ = testHandshake()
	b = a
	b.Reserved = Reserved{}
	b.Reserved.Set(FastExtensionBit)
	copy(b.PeerID[:], "-XX0001-zyxwvutsrqpo")
	return a, b
}

// connPair connects a Conn dialled with handshake a to one accepted with
// handshake b, both under lim.
func connPair(t *aio.Task, lim Limits) (dialled, accepted *Conn, err error) {
	ln, err := aio.ListenTCP(t, loopback)
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	a, b := testPeers()
	srv := aio.Spawn(t, "accept", func(t *aio.Task) (*Conn, error) {
		tc, err := ln.Accept(t)
		if err != nil {
			return nil, err
		}
		in, err := ReadIncoming(t, tc, 5*time.Second)
		if err != nil {
			return nil, err
		}
		c, _, err := in.Accept(t, b, lim, 5*time.Second)
		return c, err
	})
	d, _, err := Dial(t, ln.Addr(), a, lim, 5*time.Second)
	s, serr := aio.Await(t, srv)
	if err = errors.Join(err, serr); err != nil {
		return nil, nil, err
	}
	return d, s, nil
}

func TestHandshakeBothWays(t *testing.T) {
	a, b := testPeers()
	runLoop(t, func(task *aio.Task) error {
		ln, err := aio.ListenTCP(task, loopback)
		if err != nil {
			return err
		}
		defer ln.Close()
		type accepted struct {
			asked [20]byte
			c     *Conn
			hs    Handshake
		}
		srv := aio.Spawn(task, "accept", func(task *aio.Task) (accepted, error) {
			tc, err := ln.Accept(task)
			if err != nil {
				return accepted{}, err
			}
			in, err := ReadIncoming(task, tc, 5*time.Second)
			if err != nil {
				return accepted{}, err
			}
			c, hs, err := in.Accept(task, b, Limits{}, 5*time.Second)
			return accepted{in.InfoHash(), c, hs}, err
		})
		d, dGot, err := Dial(task, ln.Addr(), a, Limits{}, 5*time.Second)
		if err != nil {
			return err
		}
		defer d.Close()
		s, err := aio.Await(task, srv)
		if err != nil {
			return err
		}
		defer s.c.Close()
		if dGot != b {
			t.Errorf("dialler got %+v, want %+v", dGot, b)
		}
		if s.hs != a {
			t.Errorf("acceptor got %+v, want %+v", s.hs, a)
		}
		if s.asked != a.InfoHash {
			t.Errorf("ReadIncoming got info hash %x, want %x", s.asked, a.InfoHash)
		}
		for _, c := range []*Conn{d, s.c} {
			if st := c.Stats(); st.BytesRead != uint64(HandshakeLen) || st.BytesWritten != uint64(HandshakeLen) {
				t.Errorf("got %d bytes read, %d written, want %d each",
					st.BytesRead, st.BytesWritten, HandshakeLen)
			}
		}
		return nil
	})
}

// TestDialErrors runs Dial against scripted peers that misbehave once our
// handshake has arrived.
func TestDialErrors(t *testing.T) {
	ours, _ := testHandshake()
	otherHash := ours
	otherHash.InfoHash[0] ^= 1
	otherHash.PeerID[0] ^= 1
	otherProto := AppendHandshake(nil, ours)
	otherProto[1] = 'b'
	tests := []struct {
		name    string
		reply   []byte // sent after reading our handshake; then the peer closes
		silent  bool   // send nothing and keep the connection open
		timeout time.Duration
		want    error
	}{
		{"info hash mismatch", AppendHandshake(nil, otherHash), false, 5 * time.Second, ErrInfoHashMismatch},
		{"ourselves", AppendHandshake(nil, ours), false, 5 * time.Second, ErrSelf},
		{"other protocol", otherProto, false, 5 * time.Second, ErrBadHandshake},
		{"short then close", AppendHandshake(nil, otherHash)[:30], false, 5 * time.Second, io.ErrUnexpectedEOF},
		{"close at once", nil, false, 5 * time.Second, io.EOF},
		{"silent", nil, true, 50 * time.Millisecond, aio.ErrTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runLoop(t, func(task *aio.Task) error {
				ln, err := aio.ListenTCP(task, loopback)
				if err != nil {
					return err
				}
				defer ln.Close()
				srv := aio.Spawn(task, "script", func(task *aio.Task) ([]byte, error) {
					return scriptedPeer(task, ln, tc.reply, tc.silent)
				})
				c, _, err := Dial(task, ln.Addr(), ours, Limits{}, tc.timeout)
				if c != nil {
					c.Close()
				}
				if !errors.Is(err, tc.want) {
					t.Errorf("got error %v, want %v", err, tc.want)
				}
				got, serr := aio.Await(task, srv)
				if serr != nil {
					return serr
				}
				if want := AppendHandshake(nil, ours); !bytes.Equal(got, want) {
					t.Errorf("peer got handshake %q, want %q", got, want)
				}
				return nil
			})
		})
	}
}

// scriptedPeer accepts one connection, reads a handshake, writes reply
// and closes; if silent, it writes nothing and waits for the other end to
// close. It returns the handshake it read.
func scriptedPeer(t *aio.Task, ln *aio.TCPListener, reply []byte, silent bool) ([]byte, error) {
	tc, err := ln.Accept(t)
	if err != nil {
		return nil, err
	}
	defer tc.Close()
	hs := make([]byte, HandshakeLen)
	if err := tc.ReadFull(t, hs); err != nil {
		return nil, err
	}
	if silent {
		var b [1]byte
		_, err := tc.Read(t, b[:]) // returns when Dial gives up and closes
		if err != io.EOF {
			return nil, err
		}
		return hs, nil
	}
	return hs, tc.WriteAll(t, reply)
}

// TestSelfConnection dials our own listener: both ends see their own peer
// ID and refuse.
func TestSelfConnection(t *testing.T) {
	ours, _ := testHandshake()
	runLoop(t, func(task *aio.Task) error {
		ln, err := aio.ListenTCP(task, loopback)
		if err != nil {
			return err
		}
		defer ln.Close()
		srv := aio.Spawn(task, "accept", func(task *aio.Task) (*Conn, error) {
			tc, err := ln.Accept(task)
			if err != nil {
				return nil, err
			}
			in, err := ReadIncoming(task, tc, 5*time.Second)
			if err != nil {
				return nil, err
			}
			c, _, err := in.Accept(task, ours, Limits{}, 5*time.Second)
			return c, err
		})
		_, _, err = Dial(task, ln.Addr(), ours, Limits{}, 5*time.Second)
		if !errors.Is(err, ErrSelf) {
			t.Errorf("Dial: got error %v, want ErrSelf", err)
		}
		if _, err := aio.Await(task, srv); !errors.Is(err, ErrSelf) {
			t.Errorf("Accept: got error %v, want ErrSelf", err)
		}
		return nil
	})
}

// TestIncomingRouting plays the connecting peer by hand: the listener
// learns the info hash from the first 48 bytes, answers, and keeps the
// messages the peer sent behind its handshake. The bitfield is larger
// than the default read buffer, so Accept's SetLimits must grow the buffer
// without losing what is already in it.
func TestIncomingRouting(t *testing.T) {
	ours, theirs := testPeers() // we listen as ours; theirs connects
	const numPieces = 2_000_000
	lim := Limits{NumPieces: numPieces}
	bitfield := make([]byte, numPieces/8)
	for i := range bitfield {
		bitfield[i] = byte(i * 7)
	}
	stream := AppendHandshake(nil, theirs)
	stream = AppendBitfield(stream, bitfield)
	stream = AppendHave(stream, numPieces-1)
	tests := []struct {
		name      string
		pipelined bool // the peer sends everything without waiting for our handshake
	}{{"waits for our handshake", false}, {"pipelined", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runLoop(t, func(task *aio.Task) error {
				ln, err := aio.ListenTCP(task, loopback)
				if err != nil {
					return err
				}
				defer ln.Close()
				cli := aio.Spawn(task, "client", func(task *aio.Task) ([]byte, error) {
					return handPeer(task, ln.Addr(), stream, tc.pipelined)
				})
				tcp, err := ln.Accept(task)
				if err != nil {
					return err
				}
				in, err := ReadIncoming(task, tcp, 5*time.Second)
				if err != nil {
					return err
				}
				if in.InfoHash() != ours.InfoHash {
					t.Errorf("got info hash %x, want %x", in.InfoHash(), ours.InfoHash)
				}
				c, got, err := in.Accept(task, ours, lim, 5*time.Second)
				if err != nil {
					return err
				}
				defer c.Close()
				if got != theirs {
					t.Errorf("got handshake %+v, want %+v", got, theirs)
				}
				want := []Message{{ID: Bitfield, Payload: bitfield}, {ID: Have, Index: numPieces - 1}}
				for i, w := range want {
					msg, err := c.ReadMessage(task)
					if err != nil {
						return err
					}
					if !equalMessage(msg, w) {
						t.Errorf("message %d: got %v, want %v", i, msg, w)
					}
				}
				c.Close() // handPeer reads until we close
				sent, err := aio.Await(task, cli)
				if err != nil {
					return err
				}
				if want := AppendHandshake(nil, ours); !bytes.Equal(sent, want) {
					t.Errorf("peer got handshake %q, want %q", sent, want)
				}
				return nil
			})
		})
	}
}

// handPeer dials addr and sends stream (a handshake and messages): all at
// once if pipelined, else the first 48 bytes, then the rest once the
// other side's handshake has arrived. It returns that handshake.
func handPeer(t *aio.Task, addr netip.AddrPort, stream []byte, pipelined bool) ([]byte, error) {
	tc, err := aio.DialTCP(t, addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer tc.Close()
	first := stream
	if !pipelined {
		first = stream[:handshakePrefix]
	}
	if err := tc.WriteAll(t, first); err != nil {
		return nil, err
	}
	hs := make([]byte, HandshakeLen)
	if err := tc.ReadFull(t, hs); err != nil {
		return nil, err
	}
	if !pipelined {
		if err := tc.WriteAll(t, stream[handshakePrefix:]); err != nil {
			return nil, err
		}
	}
	var b [1]byte
	if _, err := tc.Read(t, b[:]); err != io.EOF { // until the listener closes
		return nil, err
	}
	return hs, nil
}

// TestAcceptWrongTorrent: the listener must answer for the torrent the
// peer asked for.
func TestAcceptWrongTorrent(t *testing.T) {
	ours, theirs := testPeers()
	ours.InfoHash[19] ^= 0xFF
	runLoop(t, func(task *aio.Task) error {
		ln, err := aio.ListenTCP(task, loopback)
		if err != nil {
			return err
		}
		defer ln.Close()
		cli := aio.Spawn(task, "client", func(task *aio.Task) (struct{}, error) {
			_, _, err := Dial(task, ln.Addr(), theirs, Limits{}, 5*time.Second)
			return struct{}{}, err
		})
		tcp, err := ln.Accept(task)
		if err != nil {
			return err
		}
		in, err := ReadIncoming(task, tcp, 5*time.Second)
		if err != nil {
			return err
		}
		if _, _, err := in.Accept(task, ours, Limits{}, 5*time.Second); !errors.Is(err, ErrInfoHashMismatch) {
			t.Errorf("got error %v, want ErrInfoHashMismatch", err)
		}
		// Accept closed the socket without answering: the dialler sees EOF.
		if _, err := aio.Await(task, cli); !errors.Is(err, io.EOF) {
			t.Errorf("dialler got error %v, want EOF", err)
		}
		return nil
	})
}
