package sources

import (
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"runtime"
	"sync"

	"sitroom/model"
	"sitroom/model/cache"
)

// A decoder with nothing to look up in a memo (it keeps none, in a
// process that polls once, or its memo is empty, at a process's first
// poll) decodes a reply that is one array of alert objects on every
// core: as the reply arrives, a splitter that only follows strings and
// brackets cuts it into segments of whole alert objects, and workers
// decode the segments while the rest arrives; the alerts are joined in
// the reply's order. An Alertmanager writes its whole reply at once,
// after building it, so on a fast link the decode after its last byte
// is what a poll waits for (and at a console's start, its first frame
// of fresh data), and it runs about 1.7 times as fast on two cores.
// With a memo, the workers hash each alert for it as the sequential
// decoder does, and the alerts are kept in it once all are read.
//
// The reply is kept whole until the decode ends: only once per process,
// or in a process about to exit. Later replies, whose alerts are mostly
// in the memo, stream through a small buffer. Anything unexpected (a
// worker's error, a split that does not add up, bytes after the array,
// a read error) hands the reply read so far to the sequential decoder,
// so the result and every error word for word are Decode's.

// segmentSize is how much of a reply a segment holds, at least.
const segmentSize = 256 << 10

// readBlock is how much of a reply is read at a time.
const readBlock = 512 << 10

// splitter follows the strings and brackets of a JSON array of objects
// read so far, finding where each element ends. It checks nothing: the
// decoders do.
type splitter struct {
	pos     int  // next byte to look at
	depth   int  // 1 inside the array
	inStr   bool // pos is inside a string
	lastEnd int  // just past the last element that ended (0: none)
	end     int  // just past the array's closing bracket (0: not yet)
	bad     bool // the brackets do not add up: the decoder will say why
}

// scan follows b from s.pos. It stops at the array's end, or where b
// ends, or at a backslash that is b's last byte (its escape unread).
func (s *splitter) scan(b []byte) {
	i := s.pos
	for i < len(b) && s.end == 0 && !s.bad {
		if s.inStr {
			j := plainRun(b, i)
			if j >= len(b) {
				i = j
				break
			}
			switch b[j] {
			case '"':
				s.inStr = false
				i = j + 1
			case '\\':
				if j+1 >= len(b) {
					s.pos = j
					return
				}
				i = j + 2
			default: // a control character: the decoder will say so
				i = j + 1
			}
			continue
		}
		switch b[i] {
		case '"':
			s.inStr = true
		case '{', '[':
			s.depth++
		case '}', ']':
			s.depth--
			switch {
			case s.depth == 1:
				s.lastEnd = i + 1
			case s.depth == 0 && b[i] == ']':
				s.end = i + 1
			case s.depth <= 0:
				s.bad = true
			}
		}
		i++
	}
	s.pos = i
}

// segment is a run of whole elements of the array, as the reply has them
// (the first after the opening bracket; the others begin with the comma
// that follows the element before), and what its decode found.
type segment struct {
	data   []byte
	first  bool
	alerts []model.Alert
	hashes []RawHash // with a memo: each alert's
	// with CheckReplies: the digest of each alert decoded, and the
	// rows repeated unchanged with their digests
	sums, keptSums []byte
	kept           []string
	err            error
}

// decodeParallel is DecodeStream for a decoder without a memo whose
// replies are one array of alert objects.
func (d *MemoDecoder) decodeParallel(r io.Reader) ([]model.Alert, error) {
	// The reply is read into blocks. When one is full, the element it
	// ends in the middle of moves to the next, so that a segment lies in
	// one block; done keeps each full block up to there, for the
	// sequential decoder should it be needed.
	var done [][]byte
	body := make([]byte, 0, readBlock)
	var readErr error
	var sp splitter
	var segs []*segment
	// The workers start with the second segment: a reply of one is
	// decoded here, as it would be without them (with CheckReplies,
	// they start with the first, to digest it).
	var jobs chan *segment
	var wg sync.WaitGroup
	start, opened := 0, false // start: where the next segment begins (before: the first byte not space)
	// With CheckReplies, the workers digest each alert and decode only
	// those whose digest no row has (see ReplyChecker).
	var known map[cache.Digest]string
	startWorkers := func() {
		jobs = make(chan *segment, 64)
		for range min(runtime.GOMAXPROCS(0), 4) {
			wg.Go(func() {
				sc := NewJSONScanner()
				var h hash.Hash
				if d.digests != nil {
					h = sha256.New()
				}
				for seg := range jobs {
					if h != nil {
						seg.alerts, seg.err = d.decodeDigested(sc, h, seg, known)
					} else {
						seg.alerts, seg.err = d.decodeSegment(sc, seg)
					}
				}
			})
		}
	}
	cut := func(end int) {
		if end <= start {
			return
		}
		segs = append(segs, &segment{data: body[start:end], first: len(segs) == 0})
		start = end
		switch {
		case jobs == nil && d.digests != nil:
			known = d.digests.stored()
			startWorkers()
		case jobs == nil && len(segs) == 2:
			startWorkers()
			jobs <- segs[0]
		}
		if jobs != nil {
			jobs <- segs[len(segs)-1]
		}
	}
	for readErr == nil && sp.end == 0 && !sp.bad {
		if len(body) == cap(body) {
			keep := len(body) // all of it, before the array
			if opened {
				cut(sp.lastEnd)
				keep = start
			}
			done = append(done, body[:keep])
			tail := body[keep:]
			body = make([]byte, len(tail), max(readBlock, 2*len(tail)))
			copy(body, tail)
			sp.pos -= keep
			start, sp.lastEnd = start-keep, 0
		}
		n, err := r.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err != nil {
			readErr = err
		}
		if !opened {
			i := skipSpace(body, start)
			if start = i; i == len(body) {
				continue
			}
			if body[i] != '[' {
				break // not an array: Decode says what it is
			}
			opened, start = true, i+1
			sp.pos, sp.depth = i+1, 1
		}
		// A read may bring many segments: they are handed out as they
		// are found, not once it is all scanned.
		for sp.end == 0 && !sp.bad {
			at := sp.pos
			sp.scan(body[:min(len(body), at+segmentSize/4)])
			if sp.lastEnd-start >= segmentSize {
				cut(sp.lastEnd)
			}
			if sp.pos == at || sp.pos == len(body) {
				break
			}
		}
	}
	ok := opened && sp.end != 0 && !sp.bad
	if ok {
		cut(sp.end - 1)
	}
	if jobs != nil {
		close(jobs)
		wg.Wait()
	} else if len(segs) == 1 {
		segs[0].alerts, segs[0].err = d.decodeSegment(d.sc, segs[0])
	}
	if ok && (readErr == nil || errors.Is(readErr, io.EOF)) {
		rest, err := io.ReadAll(r)
		if err == nil && skipSpace(rest, 0) == len(rest) && skipSpace(body, sp.end) == len(body) {
			n := 0
			for _, seg := range segs {
				if seg.err != nil {
					ok = false
				}
				n += len(seg.alerts)
			}
			if ok {
				if d.digests != nil {
					d.digests.join(segs)
				}
				if n == 0 {
					return nil, nil
				}
				alerts := make([]model.Alert, 0, n)
				for _, seg := range segs {
					alerts = append(alerts, seg.alerts...)
				}
				if d.memo != nil {
					i := 0
					for _, seg := range segs {
						for _, h := range seg.hashes {
							d.memo.Keep(h, &alerts[i])
							i++
						}
					}
				}
				return alerts, nil
			}
		}
		body, readErr = append(body, rest...), err
	}
	// The sequential decoder, on what was read and the rest, says what
	// is wrong.
	if readErr != nil {
		r = errReader{readErr}
	}
	whole := make([]byte, 0, len(body)+len(done)*readBlock)
	for _, b := range done {
		whole = append(whole, b...)
	}
	return d.decodeStream(&replyStream{r: r, buf: append(whole, body...)})
}

// decodeSegment decodes the elements of seg with sc (with a memo, into
// seg.hashes too).
func (d *MemoDecoder) decodeSegment(sc *JSONScanner, seg *segment) ([]model.Alert, error) {
	rd := d.start(sc, d.memo, d.ignore)
	if d.memo != nil {
		rd.Hashes = make([]RawHash, 0, 64)
	}
	defer func() { seg.hashes = rd.Hashes }()
	if err := eachElement(sc, seg, rd.Read); err != nil {
		return nil, err
	}
	return rd.Alerts, nil
}

// eachElement runs read, with sc, on each element of seg.
func eachElement(sc *JSONScanner, seg *segment, read func() error) error {
	sc.Reset(seg.data)
	defer sc.Reset(nil)
	if !seg.first && !sc.atEnd() {
		if sc.Peek() != ',' {
			return errSplit
		}
		sc.pos++
		if sc.atEnd() {
			return errSplit
		}
	}
	for !sc.atEnd() {
		sc.depth = 1
		if err := read(); err != nil {
			return err
		}
		if sc.atEnd() {
			break
		}
		if sc.Peek() != ',' {
			return errSplit
		}
		sc.pos++
		if sc.atEnd() {
			return errSplit
		}
	}
	return nil
}

// errSplit is a segment that is not elements and commas: the sequential
// decoder will say why.
var errSplit = errors.New("segment does not split at elements")

// errReader is the end of a reply already read: its read error, or
// io.EOF.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
