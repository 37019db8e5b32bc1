package sources

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"os"
	"runtime/debug"
	"sync"

	"sitroom/model"
	"sitroom/model/cache"
)

// A process that polls once (`poll --once` on a timer) has no memo of an
// earlier reply, and most alerts of its source's reply are ones its
// cache's rows were stored from. Its decoder therefore digests each
// alert object as the reply arrives: SHA-256 over the members the alert
// keeps (those a memo hashes: not Alertmanager's updatedAt and endsAt),
// salted with what decides how an alert decodes and is stored (the
// source type, the labels left out of keys, this build and the cache
// schema). An alert whose digest a row of the source has
// (cache.AlertDigests) is not decoded: the poll passes the row's key
// (PollMeta.Kept), and the row is seen again as it is. The others are
// decoded, and their digests go with them to Ingest, which stores each
// with its row. SHA-256 rather than a seeded hash: the digests outlive
// the process, and an upstream's alerts must not be able to pass for
// others.

// ReplyChecker is a source that can tell the alerts of a reply its cache
// holds without decoding them, in a process that polls once.
type ReplyChecker interface {
	// CheckReplies makes each Fetch digest the alerts of its reply and
	// decode only those whose digest is not in the map stored returns
	// (the cache's AlertDigests of the source; nil: none).
	CheckReplies(stored func() map[cache.Digest]string)
	// ReplyDigests is what the last Fetch found: the digest of each
	// alert it returned (cache.DigestSize bytes each, in their order),
	// and the keys of the rows its reply repeated, not decoded, with
	// their digests. All nil when it made none.
	ReplyDigests() (digests []byte, kept []string, keptDigests []byte)
}

// replyDigests is a MemoDecoder's state for ReplyChecker.
type replyDigests struct {
	salt   []byte
	stored func() map[cache.Digest]string
	// of the last reply
	sums, keptSums []byte
	kept           []string
}

// CheckReplies makes DecodeStream digest the alerts of each reply that it
// decodes on every core (a decoder without a memo: call Forget first)
// and decode only those whose digest is not in the map stored returns.
// typ is the source type, part of the salt.
func (d *MemoDecoder) CheckReplies(typ string, stored func() map[cache.Digest]string) {
	d.digests = &replyDigests{salt: digestSalt(typ, d.ignore), stored: stored}
}

// ReplyDigests is what the last reply decoded found (see ReplyChecker).
func (d *MemoDecoder) ReplyDigests() (digests []byte, kept []string, keptDigests []byte) {
	if d.digests == nil {
		return nil, nil, nil
	}
	return d.digests.sums, d.digests.kept, d.digests.keptSums
}

// reset forgets the last reply's digests.
func (r *replyDigests) reset() { r.sums, r.kept, r.keptSums = nil, nil, nil }

// join gathers the digests of a reply's segments, in order.
func (r *replyDigests) join(segs []*segment) {
	var n, k int
	for _, seg := range segs {
		n, k = n+len(seg.sums), k+len(seg.kept)
	}
	r.sums, r.keptSums = make([]byte, 0, n), make([]byte, 0, k*cache.DigestSize)
	r.kept = make([]string, 0, k)
	for _, seg := range segs {
		r.sums = append(r.sums, seg.sums...)
		r.kept = append(r.kept, seg.kept...)
		r.keptSums = append(r.keptSums, seg.keptSums...)
	}
}

// digestSalt is what each alert's digest starts with: whatever else
// decides how its alert decodes and is stored.
func digestSalt(typ string, ignore []string) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "sitroom alert digest 1\x00%s\x00%d\x00%s\x00", typ, cache.SchemaVersion, buildIdentity())
	for _, l := range ignore {
		fmt.Fprintf(h, "%d:%s", len(l), l)
	}
	return h.Sum(nil)
}

// buildIdentity names this build: its version control revision when it
// has one, and the executable's size and modification time, so a
// rebuild (or an upgrade) never takes the rows of another build's
// decode for its own.
var buildIdentity = sync.OnceValue(func() string {
	id := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		id = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
				id += " " + s.Value
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			id += fmt.Sprintf(" %s %d %d", exe, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return id
})

// decodeDigested reads the alert objects of seg with sc, digesting each
// with h: one whose digest is in known is not decoded, its row's key
// goes to seg.kept; the others are decoded, their digests to seg.sums.
// With nothing known (a new cache), each alert is digested as it is
// decoded, in one pass.
func (d *MemoDecoder) decodeDigested(sc *JSONScanner, h hash.Hash, seg *segment, known map[cache.Digest]string) ([]model.Alert, error) {
	rd := d.start(sc, nil, d.ignore)
	var sum cache.Digest
	err := eachElement(sc, seg, func() error {
		if len(known) == 0 {
			h.Reset()
			h.Write(d.digests.salt)
			rd.digest = h
			n := len(rd.Alerts)
			err := rd.Read()
			rd.digest = nil
			if err == nil && len(rd.Alerts) > n {
				seg.sums = h.Sum(seg.sums)
			}
			return err
		}
		at := sc.pos
		if err := rd.readDigest(h, d.digests.salt, sum[:0]); err != nil {
			return err
		}
		if key, ok := known[sum]; ok {
			seg.kept = append(seg.kept, key)
			seg.keptSums = append(seg.keptSums, sum[:]...)
			return nil
		}
		sc.pos = at
		n := len(rd.Alerts)
		if err := rd.Read(); err != nil {
			return err
		}
		if len(rd.Alerts) > n { // not skipped for its state
			seg.sums = append(seg.sums, sum[:]...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rd.Alerts, nil
}

// readDigest checks the alert object at the scanner's position and
// appends to sum the SHA-256, with h, of salt and of the members the
// source keeps: each as its tag, its length and its bytes.
func (r *AlertReader) readDigest(h hash.Hash, salt, sum []byte) error {
	if r.sc.Peek() != '{' {
		return MalformedError(r.format.Array + ": expected objects")
	}
	h.Reset()
	h.Write(salt)
	r.spans, r.digest = r.spans[:0], h
	_, err := r.sc.Object("alert", r.memberFn)
	r.digest = nil
	h.Sum(sum)
	return err
}

// digestMember writes one kept member into the alert's digest.
func (r *AlertReader) digestMember(tag byte, raw []byte) {
	var head [5]byte
	head[0] = tag
	binary.LittleEndian.PutUint32(head[1:], uint32(len(raw)))
	r.digest.Write(head[:])
	r.digest.Write(raw)
}
