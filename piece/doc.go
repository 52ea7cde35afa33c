// Package piece decides what to download next, checks pieces against
// their hashes, and maps pieces onto the files on disk.
//
// # Architecture
//
// The package has three parts, and only one of them is shared between
// threads:
//
//   - Storage (storage.go, handles.go, trim.go) is executor-side code. It
//     maps a byte range of a piece onto one or more files and reads or
//     writes it with pread/pwrite; every method that touches the disk
//     (OpenStorage, ReadAt, ReadPiece, WritePiece, CreateEmptyFiles,
//     Oversized, TrimVerified, Close, HashPiece)
//     blocks, and must be called on an aio executor thread (aio.Submit,
//     aio.Blocking), never on the loop thread: the loop thread makes
//     socket and poller calls and nothing else. Several executor threads
//     use one Storage at once, so it is the one type here that is safe for
//     concurrent use, and the one place in piece/ that holds a sync.Mutex
//     (its file-handle cache; DESIGN.md allows this exception). File
//     handles live in a bounded LRU cache, reference-counted so that
//     evicting a file never closes it under a thread that is using it;
//     one FileCache may serve every Storage of the process, so that the
//     descriptors in use are bounded whatever the number of torrents, and
//     it sheds its idle files when the process runs out of descriptors.
//     Files are created sparse on the first write; padding files never
//     exist on disk; every path is held inside the download directory,
//     lexically and through symlinks. A file longer than the torrent says
//     is cut to its length once the piece holding its last byte is
//     verified (trim.go). In aio debug mode, a Storage method
//     called on a loop thread is reported (aio.CheckBlocking).
//
//   - Verification (verify.go): HashPiece streams one piece through SHA-1
//     on the calling (executor) thread with a small reused buffer. Check
//     runs on the loop thread as part of an aio task: it submits one job
//     per executor worker, each claiming runs of pieces from a shared
//     atomic cursor, and wakes only to report progress and to collect the
//     result. Keeping the loop off the per-piece path is what lets checking
//     run near SHA-1 speed on every core (see Check).
//
//   - Picker (picker*.go) is a pure state machine in the manner of rain's
//     piecepicker: events in (a peer's bitfield, a HAVE, a block received,
//     a choke, a piece verified or failed), block requests out. It does no
//     I/O and reads no clock, and it is driven from the loop thread only.
//     Pieces waiting to be started sit in buckets by availability, so
//     rarest-first picking looks at a handful of pieces, not all of them.
//
// Bitfield is the BEP 3 bitfield, shared with the peer wire layer.
//
// # Data flow
//
// The session opens a Storage over the torrent's Layout, runs Check to
// learn what is on disk, and hands the result to the Picker with
// PieceVerified. Peers' bitfields and HAVEs feed the picker's availability;
// each connection asks Pick for blocks to request. When BlockReceived says
// a piece is complete, the session hashes it with HashPiece and writes it
// with WritePiece on the executor (nothing is written before it verifies),
// then tells the picker PieceVerified or PieceFailed.
package piece
