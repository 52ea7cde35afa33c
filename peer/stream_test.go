package peer

import (
	"testing"
	"time"

	"github.com/aiotorrent/aiotorrent/aio"
)

// TestHandshakeOverStreamWithPrefix is the path an encrypting listener
// takes: it reads the first 20 bytes itself to tell plaintext from MSE and
// hands them to ReadIncomingPrefix; the dialler's handshake went out before
// DialStreamSent, as MSE's initial payload does.
func TestHandshakeOverStreamWithPrefix(t *testing.T) {
	a, b := testPeers()
	runLoop(t, func(task *aio.Task) error {
		ln, err := aio.ListenTCP(task, loopback)
		if err != nil {
			return err
		}
		defer ln.Close()
		srv := aio.Spawn(task, "accept", func(task *aio.Task) (Handshake, error) {
			tc, err := ln.Accept(task)
			if err != nil {
				return Handshake{}, err
			}
			peek := make([]byte, 20)
			if err := tc.ReadFull(task, peek); err != nil {
				return Handshake{}, err
			}
			in, err := ReadIncomingPrefix(task, tc, peek, 5*time.Second)
			if err != nil {
				return Handshake{}, err
			}
			c, hs, err := in.Accept(task, b, Limits{}, 5*time.Second)
			if err != nil {
				return Handshake{}, err
			}
			if got := c.Stats().BytesRead; got != uint64(HandshakeLen) {
				t.Errorf("acceptor counted %d bytes read, want %d", got, HandshakeLen)
			}
			return hs, c.Close()
		})
		tc, err := aio.DialTCP(task, ln.Addr(), 5*time.Second)
		if err != nil {
			return err
		}
		if err := tc.WriteAll(task, AppendHandshake(nil, a)); err != nil {
			return err
		}
		d, got, err := DialStreamSent(task, tc, a, Limits{}, 5*time.Second)
		if err != nil {
			return err
		}
		defer d.Close()
		if got != b {
			t.Errorf("dialler got %+v, want %+v", got, b)
		}
		if st := d.Stats(); st.BytesWritten != 0 {
			t.Errorf("DialStreamSent wrote %d bytes, want 0", st.BytesWritten)
		}
		hs, err := aio.Await(task, srv)
		if err != nil {
			return err
		}
		if hs != a {
			t.Errorf("acceptor got %+v, want %+v", hs, a)
		}
		return nil
	})
}
