package tracker

import "bytes"

// A fast path for the usual announce answer: one dictionary whose values
// are all strings and integers in canonical form (compact peers). It reads
// the body in place, where the reflection decoder cost about thirty
// allocations per announce. Anything else (a peer list, a nested value,
// a non-canonical number, a type the field does not take) is left to the
// reflection decoder, which stays the definition of what an answer means:
// FuzzAnnounceScan holds the two to the same result.

// scanAnnounce fills d from body and reports whether it could; when it
// could not, d is to be thrown away. Trailing bytes after the dictionary
// are ignored, as decodeBencode does.
func scanAnnounce(body []byte, d *httpAnnounceBody) bool {
	if len(body) == 0 || body[0] != 'd' {
		return false
	}
	for i := 1; ; {
		if i >= len(body) {
			return false
		}
		if body[i] == 'e' {
			return true
		}
		key, next, ok := scanString(body, i)
		if !ok || next >= len(body) {
			return false
		}
		valEnd, ok := scanValueEnd(body, next)
		if !ok || !setAnnounceField(d, string(key), body[next:valEnd]) {
			return false
		}
		i = valEnd
	}
}

// setAnnounceField stores one value (raw bencode, a string or an integer)
// into d; false for a type the field does not take.
func setAnnounceField(d *httpAnnounceBody, key string, raw []byte) bool {
	isInt := raw[0] == 'i'
	switch key {
	case "failure reason", "warning message", "tracker id":
		if isInt {
			return false
		}
		s := string(stringValue(raw))
		switch key {
		case "failure reason":
			d.FailureReason = &s
		case "warning message":
			d.Warning = s
		default:
			d.TrackerID = s
		}
	case "interval", "min interval", "complete", "incomplete":
		if !isInt {
			return false
		}
		n, _ := parseCanonicalInt(raw[1 : len(raw)-1]) // checked by scanValueEnd
		switch key {
		case "interval":
			d.Interval = n
		case "min interval":
			d.MinInterval = n
		case "complete":
			d.Complete = n
		default:
			d.Incomplete = n
		}
	case "retry in":
		d.RetryIn = raw
	case "peers":
		d.Peers = raw
	case "peers6":
		d.Peers6 = raw
	}
	return true
}

// scanValueEnd returns the end of the string or integer at b[i]; false for
// lists, dictionaries and anything malformed.
func scanValueEnd(b []byte, i int) (int, bool) {
	if b[i] == 'i' {
		e := bytes.IndexByte(b[i:], 'e')
		if e < 0 {
			return 0, false
		}
		if _, ok := parseCanonicalInt(b[i+1 : i+e]); !ok {
			return 0, false
		}
		return i + e + 1, true
	}
	_, end, ok := scanString(b, i)
	return end, ok
}

// scanString reads the canonical byte string at b[i] ("N:" with no
// leading zero, then N bytes, all present) and returns it and its end.
func scanString(b []byte, i int) ([]byte, int, bool) {
	colon := bytes.IndexByte(b[i:], ':')
	if colon <= 0 || colon > 7 {
		return nil, 0, false // no answer under MaxBodySize has a longer string
	}
	n, ok := parseCanonicalInt(b[i : i+colon])
	if !ok || n < 0 {
		return nil, 0, false
	}
	start := i + colon + 1
	if n > int64(len(b)-start) {
		return nil, 0, false
	}
	return b[start : start+int(n)], start + int(n), true
}

// stringValue is the data of a well-formed bencoded string.
func stringValue(raw []byte) []byte {
	return raw[bytes.IndexByte(raw, ':')+1:]
}

// parseCanonicalInt accepts what bencode allows for an integer: an
// optional "-" then digits, no leading zero, no "-0"; at most 18 digits.
func parseCanonicalInt(s []byte) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && (len(s) > 1 || neg)) {
		return 0, false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
