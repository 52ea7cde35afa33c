// Package webseed downloads torrent data from HTTP servers (BEP 19,
// "GetRight style" web seeds): a plain file server that knows nothing of
// BitTorrent is asked for byte ranges of the torrent's files.
//
// Architecture. A Client is one HTTP/1.1 connection's worth of state,
// owned by one task: ReadAt writes a GET with a Range header, parses the
// response header (ParseHeader, bounded in size), checks the status and the
// Content-Length / Content-Range against what was asked, and reads the
// body, identity or chunked, straight into the caller's buffer. Nothing is
// allocated in proportion to a length the server chose. The connection is
// kept for the next request while the server allows it (keep-alive, no
// pipelining) and dropped on any doubt about where the next response
// starts. Redirects are followed, at most MaxRedirects of them, relative or
// absolute, with unencoded characters in Location tolerated.
//
// Every wait is bounded: the connect, the response header (HeaderTimeout
// after the request is written) and the body's progress (no byte for
// IdleTimeout ends the request). The Throttle hook is called with each
// read's byte count, for a download rate limit.
//
// http:// is spoken on aio sockets from the task itself. https:// goes
// through net/http on the executor, one blocking job per request, as the
// tracker client's does (https.go): the same checks, timeouts and
// redirect bound, the body read into the job's buffer and copied into the
// caller's on the loop.
//
// Fetch (fetch.go) gets a whole file of unknown length, bounded (a
// .torrent named by URL), with the same connections, timeouts and
// redirects, the body delimited by its length, chunks or the end of the
// stream.
//
// Mapping (url.go): a single-file torrent is the URL itself, or URL + name
// when the URL ends in '/'; a multi-file torrent's file is URL + name + '/'
// + its path, each segment percent-encoded. Slices cuts a torrent byte
// range into per-file requests; padding files (BEP 47) are never fetched.
//
// Like the other protocol packages, webseed uses no goroutines, channels
// or locks: a Client belongs to the loop thread and to one task at a time.
package webseed
