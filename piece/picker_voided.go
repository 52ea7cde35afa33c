package piece

import "slices"

// A request taken back (a CANCEL we sent, a CHOKE, a timeout) may still be
// answered: the peer may have sent the block before our CANCEL reached it,
// and some clients answer requests that their own CHOKE voided. The picker
// remembers such requests per peer, so that their late arrival is told
// apart from a block never asked for: the first is dropped quietly, the
// second is a protocol violation. This is why the session needs no copy of
// the requests, and no tolerance for "a few" unrequested blocks.

// maxVoided bounds the requests remembered per peer: four full pipelines
// (the session keeps at most 256 requests out per peer), 24 KiB. An honest
// peer answers a voided request within a round trip, or never; one still
// owed after maxVoided newer ones is forgotten, oldest first, and its
// arrival taken for an unrequested block.
const maxVoided = 1024

// voided holds one peer's voided requests, oldest first. A block voided
// twice is held twice: each request may be answered once.
type voided struct{ blocks []Block }

func (v *voided) add(b Block) {
	if len(v.blocks) == maxVoided {
		n := copy(v.blocks, v.blocks[maxVoided/4:]) // forget the oldest quarter
		v.blocks = v.blocks[:n]
	}
	v.blocks = append(v.blocks, b)
}

// take removes one voided request for b, reporting whether there was one.
func (v *voided) take(b Block) bool {
	i := slices.Index(v.blocks, b)
	if i < 0 {
		return false
	}
	v.blocks = slices.Delete(v.blocks, i, i+1)
	return true
}
