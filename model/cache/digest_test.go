package cache

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// digestOf is a made-up digest for tests.
func digestOf(s string) []byte {
	return bytes.Repeat([]byte(s), DigestSize)[:DigestSize]
}

func digestsOf(names ...string) []byte {
	var out []byte
	for _, n := range names {
		out = append(out, digestOf(n)...)
	}
	return out
}

// openPollingOnce opens the cache at path as a process that polls once
// does (PollsOnce), with its mirror loaded; the test closes it at the end.
func openPollingOnce(t *testing.T, path string) *Cache {
	t.Helper()
	c, err := Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	c.PollsOnce()
	c.Preload()
	return c
}

// Each row keeps the digest of the alert object it was written from, and
// a process that polls once finds rows by it: a poll that names a row as
// repeated (Kept) sees it again as it is, unchanged, while the alerts it
// decoded are written as usual and an unchanged one it decoded takes its
// digest. A row written without a digest (a dashboard's poll) has none.
func TestAlertDigestsFindTheRowsAReplyRepeats(t *testing.T) {
	_, path := openTemp(t)
	withDigests := func(m PollMeta, d []byte) PollMeta { m.Digests = d; return m }

	first, err := Open(path)
	require.NoError(t, err)
	first.PollsOnce()
	_, err = first.Ingest("am", []model.Alert{alert("A"), alert("B"), alert("C")}, withDigests(at(0), digestsOf("a", "b", "c")))
	require.NoError(t, err)
	_, err = first.Ingest("am", []model.Alert{alert("A"), alert("B")}, withDigests(at(15), digestsOf("a", "b"))) // C missed once
	require.NoError(t, err)
	require.NoError(t, first.Close())

	c := openPollingOnce(t, path)
	known := c.AlertDigests("am")
	require.Len(t, known, 3, "every open row's digest is read back")
	assert.Equal(t, alert("A").Key, known[Digest(digestOf("a"))])
	assert.Equal(t, alert("C").Key, known[Digest(digestOf("c"))])
	before, _, err := c.Load()
	require.NoError(t, err)

	// A and C repeated unchanged, B's summary edited, D new.
	b := alert("B")
	b.Annotations = model.LabelsFromMap(map[string]string{"summary": "B is failing harder"})
	meta := withDigests(at(30), digestsOf("B", "d"))
	meta.Kept, meta.KeptDigests = []string{alert("A").Key, alert("C").Key}, digestsOf("a", "c")
	res, err := c.Ingest("am", []model.Alert{b, alert("D")}, meta)
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Inserted: 1, Updated: 1, Unchanged: 2, Wrote: true}, res)
	after, _, err := c.Load()
	require.NoError(t, err)
	was, now := byName(before), byName(after)
	require.Len(t, now, 4)
	assert.Same(t, was["am/A"], now["am/A"], "a repeated row is kept as it is")
	assert.Zero(t, now["am/C"].Missed, "a missed row repeated is back")
	assert.Equal(t, "B is failing harder", now["am/B"].Annotations.Get("summary"))

	// Decoded again unchanged: the row takes the digest, nothing else.
	meta = withDigests(at(45), digestsOf("x"))
	meta.Kept, meta.KeptDigests = []string{alert("B").Key, alert("C").Key, alert("D").Key}, digestsOf("B", "c", "d")
	res, err = c.Ingest("am", []model.Alert{alert("A")}, meta)
	require.NoError(t, err)
	assert.Equal(t, IngestResult{Unchanged: 4, Wrote: true}, res)
	var stored []byte
	require.NoError(t, rawDB(t, path).QueryRow(`SELECT digest FROM alerts WHERE id = ?`, 1).Scan(&stored))
	assert.Equal(t, digestOf("x"), stored, "A's row takes the digest it was decoded with")

	// A row named by a digest it no longer has: nothing written.
	meta = at(60)
	meta.Kept, meta.KeptDigests = []string{alert("A").Key}, digestsOf("a")
	_, err = c.Ingest("am", []model.Alert{alert("B"), alert("C"), alert("D")}, meta)
	assert.ErrorIs(t, err, ErrReplyChanged)
	require.NoError(t, c.Close())

	// A poll without digests (a dashboard's) clears the digest of each
	// row it writes.
	dash, err := Open(path)
	require.NoError(t, err)
	b.Annotations = model.LabelsFromMap(map[string]string{"summary": "B again"})
	_, err = dash.Ingest("am", []model.Alert{alert("A"), b, alert("C"), alert("D")}, at(75))
	require.NoError(t, err)
	require.NoError(t, dash.Close())
	again := openPollingOnce(t, path)
	known = again.AlertDigests("am")
	assert.Len(t, known, 3)
	_, hasB := known[Digest(digestOf("B"))]
	assert.False(t, hasB, "B was written without a digest")
}
