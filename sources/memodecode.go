package sources

import (
	"errors"
	"hash"
	"io"

	"sitroom/model"
)

// MemoDecoder decodes the successive replies of one source, reusing the
// alerts of the previous reply that did not change (see AlertMemo): an
// unchanged alert costs a syntax check and a hash of its bytes instead of
// a decode. Its results equal those of the source's decode without a memo.
// The maps and slices of the alerts it returns are shared with earlier
// results and must not be modified. A MemoDecoder is not safe for
// concurrent use.
type MemoDecoder struct {
	sc     *JSONScanner
	memo   *AlertMemo
	ignore []string
	decode MemoDecodeFunc
	start  MemoStartFunc // nil: the replies are not one array of alerts
	// digests: see CheckReplies; nil unless called
	digests *replyDigests
}

// MemoStartFunc readies one decode of a reply that is a JSON array of
// alert objects: it returns the AlertReader (Start called) whose Read
// reads one element at sc's position, through memo when it is not nil,
// keying alerts with ignore left out.
type MemoStartFunc func(sc *JSONScanner, memo *AlertMemo, ignore []string) *AlertReader

// MemoDecodeFunc decodes one reply from data with sc, keying alerts with
// ignore left out and reading them through memo when it is not nil.
type MemoDecodeFunc func(sc *JSONScanner, memo *AlertMemo, data []byte, ignore []string) ([]model.Alert, error)

// NewMemoDecoder returns a decoder of replies read by decode, keying
// alerts with ignore left out.
func NewMemoDecoder(ignore []string, decode MemoDecodeFunc) *MemoDecoder {
	return &MemoDecoder{sc: NewJSONScanner(), memo: NewAlertMemo(), ignore: append([]string(nil), ignore...), decode: decode}
}

// Streams reports whether DecodeStream reads replies as they arrive.
func (d *MemoDecoder) Streams() bool { return d.start != nil }

// Decode decodes one reply. A failed decode leaves the memo as the last
// successful one left it.
func (d *MemoDecoder) Decode(data []byte) ([]model.Alert, error) {
	alerts, err := d.decode(d.sc, d.memo, data, d.ignore)
	d.settle(err)
	if err != nil {
		return nil, err
	}
	return alerts, nil
}

// Forget drops the memo for good: the decoder decodes every alert of
// every reply, each member as it meets it (one pass instead of a check,
// a hash and a decode), and keeps nothing of it, which costs less for a
// reply that is the last (a process that polls once and exits).
func (d *MemoDecoder) Forget() { d.memo = nil }

// settle commits the memo after a decode, or discards what the failed
// one kept.
func (d *MemoDecoder) settle(err error) {
	switch {
	case d.memo == nil:
	case err != nil:
		d.memo.Discard()
	default:
		d.memo.Commit()
	}
}

// AlertFormat is what an AlertReader needs to know of one upstream's
// alert objects.
type AlertFormat struct {
	// Array names the alerts array in errors ("alerts", "data.alerts").
	Array string
	// MemberTag returns the memo tag of a member the source keeps (a small
	// number, one per name) and 0 for a member it skips. Leave out members
	// the upstream changes on every evaluation or resend.
	MemberTag func(name []byte) byte
	// State maps the state AlertReader.State was decoded to onto the
	// alert's; false skips the alert.
	State func(state string) (model.State, bool)
}

type memoSpan struct {
	tag byte
	off int
}

// AlertReader reads the objects of an alerts array in two passes: first
// only checking and hashing the members the source keeps, then, unless the
// memo holds an alert decoded from the same bytes, decoding them one by
// one with the source's decodeMember, positioned at the member tagged Cur,
// into A and State. Without a memo it reads them in one pass, decoding
// each member as it is met.
//
// A source's decoder embeds one, calls Start once per decode and passes
// Read to JSONScanner.Array; the method values it calls per alert are made
// once per decode, in Start.
type AlertReader struct {
	// Alerts are the alerts read so far.
	Alerts []model.Alert
	// A and State are the alert being decoded and its upstream state.
	A     model.Alert
	State string
	// Cur is the tag of the member decodeMember is positioned at.
	Cur byte

	sc     *JSONScanner
	memo   *AlertMemo
	ignore []string
	format *AlertFormat
	spans  []memoSpan
	hash   RawHash
	// onePass: member decodes each member as it is met
	onePass bool
	// Hashes, when not nil, collects the memo hash of each alert read,
	// in the order of Alerts, instead of keeping the alert in the memo:
	// readers decoding segments of one reply side by side never write
	// the memo; the caller keeps their alerts once all are read.
	Hashes []RawHash
	// digest, when not nil, takes the kept members of the alert being
	// read (by readDigest, or by a one-pass Read).
	digest hash.Hash

	// method values, made once per decode
	memberFn func([]byte) error
	decodeFn func() error
}

// Start readies r for one decode with sc, appending to alerts (with room
// for the memo's alerts when it is nil and memo is not) and keying alerts
// without labels with ignore left out.
func (r *AlertReader) Start(sc *JSONScanner, memo *AlertMemo, ignore []string, format *AlertFormat, decodeMember func() error, alerts []model.Alert) {
	r.sc, r.memo, r.ignore, r.format = sc, memo, ignore, format
	r.memberFn, r.decodeFn = r.member, decodeMember
	if memo != nil && alerts == nil {
		alerts = make([]model.Alert, 0, memo.Len()+memo.Len()/8)
	}
	r.Alerts = alerts
}

// Read reads one alert object at the scanner's position.
func (r *AlertReader) Read() error {
	sc := r.sc
	if sc.Peek() != '{' {
		return MalformedError(r.format.Array + ": expected objects")
	}
	r.spans = r.spans[:0]
	r.hash = RawHash{}
	if r.memo != nil || !r.readOnePass() {
		if _, err := sc.Object("alert", r.memberFn); err != nil {
			return err
		}
		if r.memo != nil {
			if a, ok := r.memo.Lookup(r.hash); ok {
				r.Alerts = append(r.Alerts, a)
				r.keep(&a)
				return nil
			}
		}
		r.A, r.State = model.Alert{}, ""
		for _, sp := range r.spans {
			r.Cur = sp.tag
			if err := sc.At(sp.off, r.decodeFn); err != nil {
				return err
			}
		}
	}
	a := &r.A
	state, ok := r.format.State(r.State)
	if !ok {
		return nil
	}
	a.State = state
	if a.Labels.IsEmpty() {
		a.Key = LabelsKey(a.Labels, r.ignore)
	}
	r.Alerts = append(r.Alerts, *a)
	if r.memo != nil {
		r.keep(a)
	}
	return nil
}

// keep records a, just read, for the memo.
func (r *AlertReader) keep(a *model.Alert) {
	if r.Hashes != nil {
		r.Hashes = append(r.Hashes, r.hash)
		return
	}
	r.memo.Keep(r.hash, a)
}

// readOnePass decodes the object at the scanner's position into A and
// State, each member as it is met (nothing to look up without a memo),
// and reports whether it could. If not, it puts the scanner back: the
// object is read again in two passes, whose first error (a syntax error
// past a member of the wrong kind, say) is the one to report.
func (r *AlertReader) readOnePass() bool {
	sc := r.sc
	at, depth := sc.pos, sc.depth
	r.A, r.State, r.onePass = model.Alert{}, "", true
	_, err := sc.Object("alert", r.memberFn)
	r.onePass = false
	if err != nil {
		sc.pos, sc.depth = at, depth
	}
	return err == nil
}

func (r *AlertReader) member(name []byte) error {
	tag := r.format.MemberTag(name)
	if tag == 0 {
		return r.sc.Skip()
	}
	if r.onePass {
		r.Cur = tag
		if r.digest == nil {
			return r.decodeFn()
		}
		// The bytes Raw would return: from the value's first byte to
		// its last.
		r.sc.ws()
		off := r.sc.pos
		if err := r.decodeFn(); err != nil {
			return err
		}
		r.digestMember(tag, r.sc.data[off:r.sc.pos])
		return nil
	}
	off, raw, err := r.sc.Raw()
	if err != nil {
		return err
	}
	r.spans = append(r.spans, memoSpan{tag, off})
	if r.digest != nil {
		r.digestMember(tag, raw)
	}
	if r.memo != nil {
		r.hash = r.memo.Mix(r.hash, tag, raw)
	}
	return nil
}

// streamChunk is how much of a reply DecodeStream reads at a time (more
// for an alert object larger than that).
const streamChunk = 64 << 10

// DecodeStream decodes one reply read from r as it arrives: for an API
// whose reply is one JSON array of alert objects (a MemoStartFunc), each
// object is checked, hashed and looked up in the memo (or decoded) as
// soon as its bytes are in, so decoding overlaps the transfer and the
// reply is never held whole; *buf, reused from reply to reply, holds the
// unread part and the object being read. Its results and its errors
// (wording and byte offsets alike) equal Decode's of the whole reply; a
// reply that does not start as an array is read whole and handed to
// Decode. A read error of r is returned as it is. A failed decode leaves
// the memo as the last successful one left it.
//
// A reply with nothing to look up, because the memo is empty (the first
// of a process) or there is none (Forget), is every alert to decode: it
// is cut as it arrives and decoded on every core instead (see
// decodeParallel), held whole until then, and *buf is left alone.
func (d *MemoDecoder) DecodeStream(r io.Reader, buf *[]byte) ([]model.Alert, error) {
	var alerts []model.Alert
	var err error
	if d.digests != nil {
		d.digests.reset()
	}
	if d.start != nil && (d.memo == nil || d.memo.Len() == 0) {
		alerts, err = d.decodeParallel(r)
	} else {
		if cap(*buf) < streamChunk {
			*buf = make([]byte, 0, streamChunk)
		}
		st := &replyStream{r: r, buf: (*buf)[:0]}
		alerts, err = d.decodeStream(st)
		*buf = st.buf[:0]
	}
	d.sc.Reset(nil)
	d.settle(err)
	if err != nil {
		return nil, err
	}
	return alerts, nil
}

func (d *MemoDecoder) decodeStream(st *replyStream) ([]model.Alert, error) {
	sc := d.sc
	sc.Reset(st.buf)
	st.keep = true
	c, err := st.nonSpace(sc)
	if err != nil {
		return nil, err
	}
	st.keep = false
	if c != '[' {
		// Not an array: the whole reply, with Decode's wording.
		if err := st.readAll(); err != nil {
			return nil, err
		}
		return d.decode(sc, d.memo, st.buf, d.ignore)
	}
	sc.pos++
	rd := d.start(sc, d.memo, d.ignore)
	if c, err = st.nonSpace(sc); err != nil || c == ']' {
		if err == nil {
			sc.pos++
			err = st.end(sc)
		}
		return nil, err
	}
	for {
		if err := st.element(sc, rd.Read); err != nil {
			return nil, err
		}
		c, err := st.nonSpace(sc)
		if err != nil {
			return nil, err
		}
		switch c {
		case ',':
			sc.pos++
			if _, err := st.nonSpace(sc); err != nil {
				return nil, err
			}
			continue
		case ']':
			sc.pos++
			if err := st.end(sc); err != nil {
				return nil, err
			}
			if len(rd.Alerts) == 0 {
				return nil, nil
			}
			return rd.Alerts, nil
		}
		return nil, sc.errAt("alerts", "expected ',' or ']', found "+sc.found())
	}
}

// replyStream is the part of a reply read and not yet consumed: buf[0]
// is byte base of the reply, and the scanner reads buf from its pos.
type replyStream struct {
	r    io.Reader
	buf  []byte
	base int
	eof  bool
	err  error // a read error other than EOF
	keep bool  // keep the whole reply read so far (until its first value)
}

// more reads at least want more bytes (fewer at the end of the reply),
// first dropping what the scanner has consumed, and points the scanner at
// the new buffer. It reports whether it read anything.
func (st *replyStream) more(sc *JSONScanner, want int) bool {
	if st.eof || st.err != nil {
		return false
	}
	if sc.pos > 0 && !st.keep {
		n := copy(st.buf, st.buf[sc.pos:])
		st.base += sc.pos
		st.buf = st.buf[:n]
		sc.pos = 0
	}
	if free := cap(st.buf) - len(st.buf); free < max(want, streamChunk/2) {
		st.buf = append(st.buf[:cap(st.buf)], make([]byte, max(want, cap(st.buf)))...)[:len(st.buf)]
	}
	got := 0
	for got < want && len(st.buf) < cap(st.buf) {
		n, err := st.r.Read(st.buf[len(st.buf):cap(st.buf)])
		st.buf = st.buf[:len(st.buf)+n]
		got += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				st.eof = true
			} else {
				st.err = err
			}
			break
		}
	}
	sc.data, sc.base = st.buf, st.base
	return got > 0
}

// nonSpace skips whitespace, reading more as needed, and returns the
// next byte (0 at the end of the reply).
func (st *replyStream) nonSpace(sc *JSONScanner) (byte, error) {
	for {
		if c := sc.Peek(); c != 0 {
			return c, nil
		}
		if !st.more(sc, 1) {
			return 0, st.err
		}
	}
}

// element runs read on the value at the scanner's position, reading more
// of the reply and starting it again while it fails for want of the rest
// of the value; its own error once the reply has no more.
func (st *replyStream) element(sc *JSONScanner, read func() error) error {
	at := sc.pos
	for {
		sc.pos, sc.depth = at, 1
		err := read()
		if err == nil {
			sc.depth = 0
			return nil
		}
		var fe *FetchError
		short := (errors.As(err, &fe) && fe.Kind == KindTruncated) || sc.pos+8 >= len(sc.data)
		sc.pos = at
		if !short || !st.more(sc, len(st.buf)-at) {
			if st.err != nil {
				return st.err
			}
			return err
		}
		at = 0
	}
}

// end checks that nothing but whitespace follows the array.
func (st *replyStream) end(sc *JSONScanner) error {
	for {
		if !sc.atEnd() {
			return sc.End()
		}
		if !st.more(sc, streamChunk) {
			return st.err
		}
	}
}

// readAll reads the rest of the reply into buf, from its start.
func (st *replyStream) readAll() error {
	for !st.eof && st.err == nil {
		if len(st.buf) == cap(st.buf) {
			st.buf = append(st.buf, 0)[:len(st.buf)]
		}
		n, err := st.r.Read(st.buf[len(st.buf):cap(st.buf)])
		st.buf = st.buf[:len(st.buf)+n]
		if errors.Is(err, io.EOF) {
			st.eof = true
		} else if err != nil {
			st.err = err
		}
	}
	return st.err
}
