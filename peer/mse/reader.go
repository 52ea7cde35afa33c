package mse

import (
	"bytes"
	"fmt"
	"io"

	"github.com/aiotorrent/aiotorrent/aio"
)

// hsReader reads the handshake: first from prefix (bytes the caller read
// before handing the stream over), then from the stream. It never reads
// past what the handshake is known to contain, so when the handshake ends
// nothing of what follows is buffered here: a plaintext-in-MSE stream is
// handed back raw, and an RC4 one needs no carried-over bytes.
type hsReader struct {
	s      Stream
	prefix []byte
	read   int // bytes taken from prefix and s, for errors
}

// readSome reads at most len(p) bytes, at least one.
func (r *hsReader) readSome(t *aio.Task, p []byte) (int, error) {
	if len(r.prefix) > 0 {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		r.read += n
		return n, nil
	}
	n, err := r.s.Read(t, p)
	r.read += n
	if n > 0 {
		return n, nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return 0, err
}

func (r *hsReader) readFull(t *aio.Task, p []byte) error {
	for len(p) > 0 {
		n, err := r.readSome(t, p)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		p = p[n:]
	}
	return nil
}

// scan reads until mark has arrived, after at most maxPad bytes of
// padding, using buf (len(mark)+maxPad bytes) and returning the padding
// length. It reads no byte past mark: each read asks for no more than
// the fewest bytes that could complete it, which is len(mark) less the
// longest tail of what is buffered that could be mark's beginning. A
// match can then only end at the end of the buffer.
func (r *hsReader) scan(t *aio.Task, mark, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		need := len(mark) - overlap(buf[:n], mark)
		got, err := r.readSome(t, buf[n:min(n+need, len(buf))])
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		n += got
		if n >= len(mark) && bytes.Equal(buf[n-len(mark):n], mark) {
			return n - len(mark), nil
		}
	}
	return 0, fmt.Errorf("%w within %d bytes of padding", ErrSync, len(buf)-len(mark))
}

// overlap is the length of the longest tail of b that is a
// beginning of mark (shorter than mark: a whole mark would have matched).
func overlap(b, mark []byte) int {
	for k := min(len(b), len(mark)-1); k > 0; k-- {
		if bytes.Equal(b[len(b)-k:], mark[:k]) {
			return k
		}
	}
	return 0
}
