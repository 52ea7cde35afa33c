package utp

// byteRing is a connection's in-order receive buffer. It starts small and
// doubles up to the receive window, so an idle connection holds little.
type byteRing struct {
	buf  []byte
	r, n int
}

const minRing = 16 << 10

// write appends p; the caller has checked that it fits the window.
func (b *byteRing) write(p []byte) {
	if b.n+len(p) > len(b.buf) {
		b.grow(b.n + len(p))
	}
	w := (b.r + b.n) % len(b.buf)
	k := copy(b.buf[w:], p)
	copy(b.buf, p[k:])
	b.n += len(p)
}

func (b *byteRing) grow(need int) {
	size := max(len(b.buf), minRing)
	for size < need {
		size *= 2
	}
	nb := make([]byte, size)
	n := b.n
	b.read(nb[:n])
	b.buf, b.r, b.n = nb, 0, n
}

// read moves up to len(p) bytes out.
func (b *byteRing) read(p []byte) int {
	n := min(len(p), b.n)
	if n == 0 {
		return 0
	}
	k := copy(p[:n], b.buf[b.r:min(b.r+n, len(b.buf))])
	copy(p[k:n], b.buf)
	b.r = (b.r + n) % len(b.buf)
	b.n -= n
	return n
}

// release drops the contents and the memory.
func (b *byteRing) release() { *b = byteRing{} }
