package alertmanager

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/sources"
)

// readers hands a reply to DecodeStream whole, a byte at a time and in
// halves, as a network may.
var readers = map[string]func([]byte) io.Reader{
	"whole":    func(b []byte) io.Reader { return bytes.NewReader(b) },
	"one-byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
	"half":     func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
}

// checkStreamEqualsDecode decodes in with Decode of the whole reply and
// with DecodeStream through every reader, and wants the same alerts or
// the same error, word for word.
func checkStreamEqualsDecode(t *testing.T, name string, in []byte) {
	t.Helper()
	want, wantErr := NewDecoder([]string{"cluster"}).Decode(in)
	for rname, reader := range readers {
		var buf []byte
		d := NewDecoder([]string{"cluster"})
		got, err := d.DecodeStream(reader(in), &buf)
		// A decoder told to keep no memo (a process that polls once)
		// decodes the same, reply after reply.
		forgetful := NewDecoder([]string{"cluster"})
		forgetful.Forget()
		for range 2 {
			fgot, ferr := forgetful.DecodeStream(reader(in), new([]byte))
			assert.Equal(t, fmt.Sprint(err), fmt.Sprint(ferr), "%s, %s reader, no memo", name, rname)
			assert.Equal(t, got, fgot, "%s, %s reader, no memo", name, rname)
		}
		// So does one digesting its alerts (a process that polls
		// once), when the cache holds none of their digests.
		for _, stored := range []map[cache.Digest]string{nil, {{7}: "x"}} {
			digesting := NewDecoder([]string{"cluster"})
			digesting.Forget()
			digesting.CheckReplies(Type, func() map[cache.Digest]string { return stored })
			dgot, derr := digesting.DecodeStream(reader(in), new([]byte))
			assert.Equal(t, fmt.Sprint(err), fmt.Sprint(derr), "%s, %s reader, digesting (%d stored)", name, rname, len(stored))
			assert.Equal(t, got, dgot, "%s, %s reader, digesting (%d stored)", name, rname, len(stored))
			sums, kept, _ := digesting.ReplyDigests()
			assert.Empty(t, kept)
			if derr == nil {
				assert.Len(t, sums, len(dgot)*cache.DigestSize, "%s, %s reader: a digest per alert", name, rname)
			}
		}
		if wantErr != nil {
			require.Error(t, err, "%s, %s reader", name, rname)
			var wfe, gfe *sources.FetchError
			require.True(t, errors.As(wantErr, &wfe) && errors.As(err, &gfe), "%s, %s: %v / %v", name, rname, wantErr, err)
			assert.Equal(t, wfe.Kind, gfe.Kind, "%s, %s reader", name, rname)
			assert.Equal(t, wfe.Msg, gfe.Msg, "%s, %s reader", name, rname)
			continue
		}
		require.NoError(t, err, "%s, %s reader", name, rname)
		assert.Equal(t, want, got, "%s, %s reader", name, rname)
		// The first reply of a decoder with a memo, decoded on every
		// core when long, fills its memo as the sequential decoder
		// would: the next reply streams through the buffer and reuses
		// every alert (the same key string, not one computed again from
		// a copy of the reply).
		again, err := d.DecodeStream(reader(bytes.Clone(in)), &buf)
		require.NoError(t, err, "%s, %s reader, second reply", name, rname)
		assert.Equal(t, want, again, "%s, %s reader, second reply", name, rname)
		if len(in) > 256<<10 && bytes.Count(in, []byte(`"labels"`)) > 1000 {
			assert.LessOrEqual(t, cap(buf), 64<<10, "%s, %s reader: the buffer holds a few alerts at a time, not the reply", name, rname)
			for i := range again {
				if unsafe.StringData(again[i].Key) != unsafe.StringData(got[i].Key) {
					t.Fatalf("%s, %s reader: alert %d of the second reply decoded again, not reused from the memo", name, rname, i)
				}
			}
		}
	}
}

// A reply read as it arrives decodes to what the whole reply decodes to,
// and fails with the same words at the same byte, however the network
// splits it.
func TestDecodeStreamEqualsDecode(t *testing.T) {
	for _, name := range decoding.Payloads {
		checkStreamEqualsDecode(t, name, decoding.Payload(t, name))
	}
	long := synthPayload(2000)
	checkStreamEqualsDecode(t, "synthetic 2k", long)
	// Faults deep in a reply long enough for a decoder without a memo to
	// cut it into segments decoded side by side.
	at := bytes.Index(long[len(long)*3/4:], []byte(`"startsAt":"`)) + len(long)*3/4
	for name, in := range map[string][]byte{
		"long, bad time deep in":    append(append(append([]byte{}, long[:at]...), `"startsAt":"yesterday","x":"`...), long[at+len(`"startsAt":"`):]...),
		"long, truncated":           long[:len(long)*7/10],
		"long, data after":          append(append([]byte{}, long...), " x"...),
		"long, trailing comma":      append(append([]byte{}, long[:len(long)-1]...), ",]"...),
		"long, bad literal deep in": append(append([]byte{}, long[:at]...), bytes.Replace(long[at:], []byte(`"inhibitedBy":[]`), []byte(`"inhibitedBy":nul`), 1)...),
		"long, brackets crossed":    append(append([]byte{}, long[:len(long)-1]...), "}"...),
	} {
		checkStreamEqualsDecode(t, name, in)
	}
	big := `[{"labels":{"alertname":"Big"},"annotations":{"description":"` + strings.Repeat("x", 300<<10) + `"},"status":{"state":"active"}},` +
		`{"labels":{"alertname":"After"},"status":{"state":"active"}}]`
	checkStreamEqualsDecode(t, "an alert larger than a read", []byte(big))
	for name, in := range map[string]string{
		"empty array":                 `[]`,
		"spaced":                      " \n [ \t{\"labels\":{\"alertname\":\"A\"},\"status\":{\"state\":\"active\"}} ,\n {\"labels\":{\"alertname\":\"B\"},\"status\":{\"state\":\"suppressed\"}} ] \n",
		"object":                      `{"code":400,"message":"bad"}`,
		"empty":                       ``,
		"only spaces":                 strings.Repeat(" ", 100<<10),
		"spaces then object":          strings.Repeat(" ", 100<<10) + `{"a":1}`,
		"null":                        `null`,
		"truncated":                   `[{"labels":{"alertname":"A"},"status":{"state":"act`,
		"truncated after":             `[{"labels":{"alertname":"A"},"status":{"state":"active"}}`,
		"truncated comma":             `[{"labels":{"alertname":"A"},"status":{"state":"active"}},`,
		"wrong":                       `[{"status":{"silencedBy":"x"}}]`,
		"not objects":                 `[1,2]`,
		"bad separator":               `[{"labels":{"alertname":"A"},"status":{"state":"active"}} {"labels":{}}]`,
		"data after":                  `[{"labels":{"alertname":"A"},"status":{"state":"active"}}] x`,
		"bad literal":                 `[{"labels":{"alertname":"A"},"status":{"state":"active"},"x":nul}]`,
		"bad time far in":             strings.Repeat(" ", 70<<10) + `[{"labels":{"alertname":"A"},"status":{"state":"active"}},{"labels":{"alertname":"B"},"startsAt":"yesterday","status":{"state":"active"}}]`,
		"escapes":                     `[{"labels":{"alertname":"A\u00e9\"\\"},"annotations":{"s":"\ud83d\ude00"},"status":{"state":"active"}}]`,
		"invalid utf-8":               "[{\"labels\":{\"alertname\":\"A\xff\"},\"status\":{\"state\":\"active\"}}]",
		"a kind, then a syntax error": `[{"annotations":00`,
		"brackets crossed":            `[}`,
		"a NUL for an alert":          "[ \x00]",
		"a NUL after an alert":        "[{\"labels\":{\"alertname\":\"A\"},\"status\":{\"state\":\"active\"}}\x00]",
		"a NUL after the array":       "[]\x00",
	} {
		checkStreamEqualsDecode(t, name, []byte(in))
	}
}

// A connection that fails in the middle of a reply fails the decode with
// the read error (which the fetch turns into "truncated reply" or the
// transport's words), and the memo keeps the last good reply.
func TestDecodeStreamReadError(t *testing.T) {
	d := NewDecoder(nil)
	in := synthPayload(200)
	var buf []byte
	first, err := d.DecodeStream(bytes.NewReader(in), &buf)
	require.NoError(t, err)
	cut := io.MultiReader(bytes.NewReader(in[:len(in)/2]), iotest.ErrReader(io.ErrUnexpectedEOF))
	_, err = d.DecodeStream(cut, &buf)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	again, err := d.DecodeStream(bytes.NewReader(in), &buf)
	require.NoError(t, err)
	assert.Equal(t, first, again)
}

func FuzzDecodeStreamEqualsDecode(f *testing.F) {
	decoding.AddPayloads(f)
	f.Add([]byte(`[{"labels":{"a":"\u00e9"},"status":{"state":"suppressed","silencedBy":null}}]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkStreamEqualsDecode(t, "fuzz", in)
	})
}

// A decoder of a process that polls once digests each alert: one whose
// digest a row has is not decoded, the row's key is passed instead; an
// alert that differs only in what Alertmanager moves on every resend
// (updatedAt, endsAt) has the same digest; any change the row would
// show, or keying alerts otherwise, gives another.
func TestDecodeStreamAlertDigests(t *testing.T) {
	in := synthPayload(3000)
	type found struct {
		alerts         []model.Alert
		sums, keptSums []byte
		kept           []string
	}
	decode := func(ignore []string, reply []byte, known map[cache.Digest]string) found {
		t.Helper()
		d := NewDecoder(ignore)
		d.Forget()
		d.CheckReplies(Type, func() map[cache.Digest]string { return known })
		alerts, err := d.DecodeStream(bytes.NewReader(reply), new([]byte))
		require.NoError(t, err)
		var f found
		f.alerts = alerts
		f.sums, f.kept, f.keptSums = d.ReplyDigests()
		return f
	}
	first := decode(nil, in, nil)
	require.Len(t, first.alerts, 3000)
	require.Len(t, first.sums, 3000*cache.DigestSize)
	known := map[cache.Digest]string{}
	for i, a := range first.alerts {
		known[cache.Digest(first.sums[i*cache.DigestSize:])] = a.Key
	}
	require.Len(t, known, 3000, "a digest per alert")
	keys := func(as []model.Alert) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Key)
		}
		return out
	}

	again := decode(nil, bytes.Clone(in), known)
	assert.Empty(t, again.alerts, "the stored alerts are not decoded")
	assert.Equal(t, keys(first.alerts), again.kept, "their rows, in the reply's order")
	assert.Equal(t, first.sums, again.keptSums)

	resent := regexp.MustCompile(`"updatedAt":"[^"]*"`).ReplaceAll(in, []byte(`"updatedAt":"2026-12-07T09:05:17.123Z"`))
	resent = regexp.MustCompile(`"endsAt":"[^"]*"`).ReplaceAll(resent, []byte(`"endsAt":"2026-12-07T10:05:17.12Z"`))
	require.NotEqual(t, in, resent)
	got := decode(nil, resent, known)
	assert.Empty(t, got.alerts, "resent alerts are the same alerts")
	assert.Len(t, got.kept, 3000)

	at := bytes.Index(in, []byte(`"state":"active"`))
	silenced := append(append(append([]byte{}, in[:at]...), `"state":"suppressed"`...), in[at+len(`"state":"active"`):]...)
	got = decode(nil, silenced, known)
	require.Len(t, got.alerts, 1, "only the changed alert is decoded")
	assert.Equal(t, model.StateSuppressed, got.alerts[0].State)
	assert.Len(t, got.kept, 2999)
	assert.NotContains(t, got.kept, got.alerts[0].Key)
	_, stale := known[cache.Digest(got.sums)]
	assert.False(t, stale, "its digest is a new one")

	got = decode([]string{"cluster"}, in, known)
	assert.Len(t, got.alerts, 3000, "alerts keyed otherwise are decoded")
	assert.Empty(t, got.kept)
}
