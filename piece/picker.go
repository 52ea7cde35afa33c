package piece

// The picker decides which blocks to ask each peer for. It is a pure state
// machine: events in, requests out, no I/O, no clock, no aio, driven from
// the loop thread only.
//
// Factors it weighs, in the order Pick applies them:
//
//  1. What the peer has. A peer is only asked for pieces in its bitfield
//     and HAVEs; a peer that told us nothing is asked for nothing.
//  2. What we want. Pieces we have verified are never asked for; pieces
//     lying only in files marked skip are not either (a piece that
//     straddles a skipped and a wanted file is wanted: see WantedPieces).
//  3. Started pieces first. Blocks not yet requested in pieces already in
//     progress go before any new piece, oldest piece first, so that data
//     turns into verified, shareable pieces quickly and few partial pieces
//     are held in memory.
//  4. The in-progress cap. With MaxActivePieces set, no new piece is
//     started while that many are in progress; this bounds the session's
//     piece buffers.
//  5. Which new piece:
//     a. sequential mode (SetSequential): the lowest index;
//     b. random while fewer than RandomFirst pieces are verified: a new
//     peer has nothing to trade, and a common piece is the quickest to
//     get and to pass on;
//     c. otherwise rarest first: the lowest availability (how many
//     connected peers have it), ties broken at random so peers do not
//     all chase the same piece.
//  6. Endgame. Once no piece is waiting to start and every block of the
//     pieces in progress is requested, a peer is also asked for blocks
//     already requested from others (never twice from the same peer); when
//     one copy arrives, BlockReceived names the peers to send CANCEL to.
//
// Requests that will not be answered (a choke, a reject, a timeout, a peer
// gone) go back to the pool, and a piece with no data and no requests left
// stops being in progress. The picker alone records which blocks are
// outstanding from which peer, and remembers requests it took back, so
// that BlockReceived tells a requested block from a late one (answered
// after a CANCEL or a CHOKE) and from one never asked for.
//
// Cost: pieces waiting to start sit in buckets indexed by availability, in
// random order within a bucket, with each piece's slot recorded so a HAVE
// moves it in O(1) (swap-remove). Rarest first walks the buckets from the
// rarest and takes the first piece the peer has; for a peer that has few of
// them the walk is cut short after about numPieces/64 steps and a word-wise
// scan of (waiting AND peer has) finishes the job. So a pick costs
// microseconds with 100,000 pieces, not a scan of every piece.

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// BlockSize is the size of a block request: 16 KiB, what every client
// asks for and most refuse to exceed. The last block of the last piece is
// shorter.
const BlockSize = 16 * 1024

// DefaultRandomFirst is how many pieces are picked at random before rarest
// first takes over, when PickerOptions leaves RandomFirst zero.
const DefaultRandomFirst = 4

// PeerID names a peer to the picker. The session assigns small integers.
type PeerID int

// Block is a request: Length bytes at Begin in piece Piece.
type Block struct {
	Piece  int
	Begin  int
	Length int
}

// ErrPeerInput is wrapped by the errors the picker returns for a peer's
// bitfield or HAVE that does not fit the torrent; the session drops the
// peer.
var ErrPeerInput = errors.New("invalid piece information from peer")

// String shows a block as piece:begin+length, for logs and tests.
func (b Block) String() string { return fmt.Sprintf("%d:%d+%d", b.Piece, b.Begin, b.Length) }

// PickerOptions tunes NewPicker. The zero value gives the defaults.
type PickerOptions struct {
	// RandomFirst is how many pieces to pick at random before switching to
	// rarest first; 0 means DefaultRandomFirst, negative means none.
	RandomFirst int
	// MaxActivePieces caps the pieces in progress (started, not yet
	// verified); 0 means no cap.
	MaxActivePieces int
	// Wanted marks the pieces to download; nil means all. See
	// Layout.WantedPieces. The picker keeps its own copy.
	Wanted *Bitfield
}

// Picker tracks piece availability and block requests for one torrent.
// It is not safe for concurrent use: the loop thread owns it.
type Picker struct {
	rng         *rand.Rand
	numPieces   int
	pieceLen    int64
	totalLen    int64
	randomFirst int
	maxActive   int
	sequential  bool

	have       *Bitfield
	wanted     *Bitfield
	wantedLeft int     // wanted pieces not yet in have
	avail      []int32 // connected peers having each piece

	// Invariant: a piece is waiting (in waiting, and in buckets[avail[i]]
	// at pos[i]) iff it is wanted, not had and not active.
	waiting   *Bitfield
	buckets   [][]int32
	pos       []int32
	lowBucket int // no non-empty bucket below this one
	seqWord   int // no waiting piece below word seqWord of waiting

	// Invariant: active lists, oldest first, the pieces in progress, and
	// activeOf[i] is i's entry or nil; free counts their blocks that are
	// neither received nor requested.
	active   []*activePiece
	activeOf []*activePiece
	free     int
	spare    []*activePiece // retired, for reuse (see newActive)

	peers map[PeerID]*peerState
}

// activePiece is a piece in progress.
type activePiece struct {
	index     int
	blocks    []blockState
	free      int // blocks neither received nor requested
	received  int
	firstFree int // no free block below this index
}

type blockState struct {
	received bool
	peers    []PeerID // whom it is requested from; several in endgame
}

// peerState is what the picker knows of one peer. It is the one record of
// what the peer was asked for: the session keeps no copy.
type peerState struct {
	have     *Bitfield
	requests []Block // outstanding, in no particular order
	voided   voided  // requests taken back that it may still answer
}

// NewPicker returns a picker for a torrent of totalLen bytes in pieces of
// pieceLen, with nothing had and no peers. rng breaks ties and picks the
// random first pieces; tests pass a seeded one.
func NewPicker(pieceLen, totalLen int64, rng *rand.Rand, opts PickerOptions) (*Picker, error) {
	if pieceLen <= 0 || totalLen < 0 || pieceLen > 1<<30 {
		return nil, fmt.Errorf("picker: piece length %d, total %d", pieceLen, totalLen)
	}
	if rng == nil {
		return nil, errors.New("picker: nil rng")
	}
	n := int((totalLen + pieceLen - 1) / pieceLen)
	if opts.Wanted != nil && opts.Wanted.Len() != n {
		return nil, fmt.Errorf("picker: wanted bitfield of %d pieces, torrent has %d", opts.Wanted.Len(), n)
	}
	p := &Picker{
		rng:         rng,
		numPieces:   n,
		pieceLen:    pieceLen,
		totalLen:    totalLen,
		randomFirst: opts.RandomFirst,
		maxActive:   opts.MaxActivePieces,
		have:        NewBitfield(n),
		avail:       make([]int32, n),
		waiting:     NewBitfield(n),
		buckets:     make([][]int32, 1, 8),
		pos:         make([]int32, n),
		activeOf:    make([]*activePiece, n),
		peers:       make(map[PeerID]*peerState),
	}
	if p.randomFirst == 0 {
		p.randomFirst = DefaultRandomFirst
	}
	if opts.Wanted != nil {
		p.wanted = opts.Wanted.Clone()
	} else {
		p.wanted = NewBitfield(n)
		p.wanted.SetAll()
	}
	p.wantedLeft = p.wanted.Count()
	p.buckets[0] = make([]int32, 0, n)
	for i := 0; i < n; i++ {
		p.pos[i] = -1
		if p.wanted.Has(i) {
			p.addWaiting(i)
		}
	}
	return p, nil
}

// NumPieces is the number of pieces in the torrent.
func (p *Picker) NumPieces() int { return p.numPieces }

// PieceSize is the length of piece i; only the last piece is shorter.
func (p *Picker) PieceSize(i int) int {
	if i == p.numPieces-1 {
		return int(p.totalLen - int64(i)*p.pieceLen)
	}
	return int(p.pieceLen)
}

// numBlocks is how many blocks piece i has.
func (p *Picker) numBlocks(i int) int { return (p.PieceSize(i) + BlockSize - 1) / BlockSize }

// block returns block k of piece i.
func (p *Picker) block(i, k int) Block {
	begin := k * BlockSize
	return Block{Piece: i, Begin: begin, Length: min(BlockSize, p.PieceSize(i)-begin)}
}

// blockIndex checks that b is exactly one of the picker's blocks (as a
// peer's PIECE or REJECT must be) and returns its index in the piece.
func (p *Picker) blockIndex(b Block) (int, bool) {
	if b.Piece < 0 || b.Piece >= p.numPieces || b.Begin < 0 || b.Begin%BlockSize != 0 {
		return 0, false
	}
	k := b.Begin / BlockSize
	if k >= p.numBlocks(b.Piece) || p.block(b.Piece, k) != b {
		return 0, false
	}
	return k, true
}

// SetMaxActivePieces changes the cap on pieces in progress (see
// PickerOptions.MaxActivePieces; 0 means none). Lowering it below the
// pieces now in progress starts no new piece until enough of them end.
func (p *Picker) SetMaxActivePieces(n int) { p.maxActive = max(0, n) }

// SetSequential switches between picking new pieces in index order
// (streaming a file as it downloads) and the usual rarest first.
func (p *Picker) SetSequential(on bool) { p.sequential = on }

// SetWanted changes which pieces to download (a file's skip flag changed).
// Pieces in progress that are no longer wanted are left to finish.
func (p *Picker) SetWanted(wanted *Bitfield) error {
	if wanted.Len() != p.numPieces {
		return fmt.Errorf("picker: wanted bitfield of %d pieces, torrent has %d", wanted.Len(), p.numPieces)
	}
	for i := 0; i < p.numPieces; i++ {
		was, now := p.wanted.Has(i), wanted.Has(i)
		switch {
		case was == now:
			continue
		case now:
			p.wanted.Set(i)
			if !p.have.Has(i) {
				p.wantedLeft++
				if p.activeOf[i] == nil {
					p.addWaiting(i)
				}
			}
		default:
			p.wanted.Clear(i)
			if !p.have.Has(i) {
				p.wantedLeft--
				if p.waiting.Has(i) {
					p.removeWaiting(i)
				}
			}
		}
	}
	return nil
}

// Have reports whether piece i is verified.
func (p *Picker) Have(i int) bool { return p.have.Has(i) }

// Bitfield returns a copy of the verified pieces, for the BITFIELD message.
func (p *Picker) Bitfield() *Bitfield { return p.have.Clone() }

// Complete reports whether every wanted piece is verified.
func (p *Picker) Complete() bool { return p.wantedLeft == 0 }

// Availability is the number of connected peers that have piece i.
func (p *Picker) Availability(i int) int {
	if i < 0 || i >= p.numPieces {
		return 0
	}
	return int(p.avail[i])
}

// ActivePieces is the number of pieces in progress.
func (p *Picker) ActivePieces() int { return len(p.active) }

// Endgame reports whether the picker has moved to endgame: nothing waits
// to start and every block in progress is requested.
func (p *Picker) Endgame() bool {
	return p.waiting.Count() == 0 && p.free == 0 && len(p.active) > 0
}
