package webseed

import (
	"errors"
	"fmt"
)

// Errors callers can branch on with errors.Is. Each returned error wraps
// one of them with the URL and what was wrong.
var (
	// ErrStatus: the server answered with a status other than 200 or 206
	// (or a redirect). The error is a *StatusError carrying the code.
	ErrStatus = errors.New("webseed: bad HTTP status")
	// ErrBadRange: the response's Content-Length or Content-Range does not
	// match the range asked for (a 206 for other bytes, a 200 whose body
	// is not the whole file, a file of another size).
	ErrBadRange = errors.New("webseed: response does not match the range asked for")
	// ErrNoRanges: the server ignored a Range header (answered 200) for
	// part of a file; it can serve whole files only.
	ErrNoRanges = errors.New("webseed: server does not support byte ranges")
	// ErrTooManyRedirects: more than MaxRedirects redirects, or a loop.
	ErrTooManyRedirects = errors.New("webseed: too many redirects")
	// ErrBadResponse: the response is not well-formed HTTP/1.x.
	ErrBadResponse = errors.New("webseed: malformed HTTP response")
	// ErrHeaderTooLarge: the response header exceeds MaxHeaderBytes.
	ErrHeaderTooLarge = errors.New("webseed: response header too large")
	// ErrBodyLength: the body ended early, or went on past its announced
	// length.
	ErrBodyLength = errors.New("webseed: body length differs from the announced one")
	// ErrScheme: the URL is neither http:// nor https://.
	ErrScheme = errors.New("webseed: unsupported URL scheme")
	// ErrTooLarge: Fetch's file is larger than the bound it was given.
	ErrTooLarge = errors.New("webseed: file too large")
	// ErrTimeout: a connect, a response header or the body's progress
	// took longer than allowed.
	ErrTimeout = errors.New("webseed: timed out")
)

// StatusError is an unexpected HTTP status. errors.Is(err, ErrStatus)
// holds for it.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("webseed: HTTP status %d %s", e.Code, e.Reason)
}

// Is makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }
