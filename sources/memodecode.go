package sources

import "sitroom/model"

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
}

// MemoDecodeFunc decodes one reply from data with sc, keying alerts with
// ignore left out and reading them through memo when it is not nil.
type MemoDecodeFunc func(sc *JSONScanner, memo *AlertMemo, data []byte, ignore []string) ([]model.Alert, error)

// NewMemoDecoder returns a decoder of replies read by decode, keying
// alerts with ignore left out.
func NewMemoDecoder(ignore []string, decode MemoDecodeFunc) *MemoDecoder {
	return &MemoDecoder{sc: NewJSONScanner(), memo: NewAlertMemo(), ignore: append([]string(nil), ignore...), decode: decode}
}

// Decode decodes one reply. A failed decode leaves the memo as the last
// successful one left it.
func (d *MemoDecoder) Decode(data []byte) ([]model.Alert, error) {
	alerts, err := d.decode(d.sc, d.memo, data, d.ignore)
	if err != nil {
		d.memo.Discard()
		return nil, err
	}
	d.memo.Commit()
	return alerts, nil
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
// into A and State.
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
	if _, err := sc.Object("alert", r.memberFn); err != nil {
		return err
	}
	if r.memo != nil {
		if a, ok := r.memo.Lookup(r.hash); ok {
			r.Alerts = append(r.Alerts, a)
			r.memo.Keep(r.hash, &a)
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
	a := &r.A
	state, ok := r.format.State(r.State)
	if !ok {
		return nil
	}
	a.State = state
	if a.Labels == nil {
		a.Labels = map[string]string{}
		a.Key = LabelsKey(a.Labels, r.ignore, nil)
	}
	r.Alerts = append(r.Alerts, *a)
	if r.memo != nil {
		r.memo.Keep(r.hash, a)
	}
	return nil
}

func (r *AlertReader) member(name []byte) error {
	tag := r.format.MemberTag(name)
	if tag == 0 {
		return r.sc.Skip()
	}
	off, raw, err := r.sc.Raw()
	if err != nil {
		return err
	}
	r.spans = append(r.spans, memoSpan{tag, off})
	if r.memo != nil {
		r.hash = r.memo.Mix(r.hash, tag, raw)
	}
	return nil
}
