package cache

import (
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

func TestCodecRoundTrip(t *testing.T) {
	m := map[string]string{
		"alertname": "Disk\"Full\"",
		"path":      `C:\temp\x`,
		"summary":   "line1\nline2\ttab\r\x00\x1f\x7f",
		"unicode":   "café – 🚒 \u2028 \u202e",
		"":          "empty key",
		"empty":     "",
	}
	enc := encodeMap(m)
	var viaStd map[string]string
	require.NoError(t, json.Unmarshal([]byte(enc), &viaStd), enc)
	assert.Equal(t, m, viaStd, "the text is JSON any decoder reads")
	got, err := decodeMap([]byte(enc))
	require.NoError(t, err)
	assert.Equal(t, m, got)
	assert.Equal(t, enc, encodeMap(got), "keys are written sorted, so equal maps give equal text")

	l := []string{"a", "b\"c", "ü"}
	gotL, err := decodeList([]byte(encodeList(l)))
	require.NoError(t, err)
	assert.Equal(t, l, gotL)

	// Text written by another encoder (escaped differently, spaced) still reads.
	got, err = decodeMap([]byte(`{ "a" : "\u00e9\ud83d\ude92\/" , "b":"x"}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "é🚒/", "b": "x"}, got)
	gotL, err = decodeList([]byte(`["\u0041", "b" ]`))
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "b"}, gotL)

	_, err = decodeMap([]byte(`{"a":`))
	assert.Error(t, err)

	// Label sets: the same text as the map, read back into one value.
	ls := model.LabelsFromMap(m)
	assert.Equal(t, enc, encodeLabels(ls), "a label set is stored as its map was")
	gotLs, err := decodeLabels([]byte(enc))
	require.NoError(t, err)
	assert.True(t, ls.Equal(gotLs), "%v", gotLs)
	gotLs, err = decodeLabels([]byte(`{"b":"2","a":"\u00e9","b":"3"}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "é", "b": "3"}, gotLs.Map(), "unsorted, escaped, a repeated name: as a map reads it")
	gotLs, err = decodeLabels([]byte(`{ "a" : "1" }`))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "1"}, gotLs.Map())
	gotLs, err = decodeLabels([]byte(`{}`))
	require.NoError(t, err)
	assert.True(t, gotLs.IsEmpty())
	_, err = decodeLabels([]byte(`{"a":`))
	assert.Error(t, err)
}

func TestCodecInvalidUTF8(t *testing.T) {
	m := map[string]string{"k\xff": "v\xc3\x28x"}
	enc := encodeMap(m)
	assert.True(t, utf8.ValidString(enc))
	got, err := decodeMap([]byte(enc))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k\uFFFD": "v\uFFFD(x"}, got)
}

func FuzzCodec(f *testing.F) {
	f.Add("alertname", "HighLatency", "x")
	f.Add("k\"", "v\\\n", "\xff\xed\xa0\x80")
	f.Add("", "\u2028", "\x00")
	in := newInterner()
	f.Fuzz(func(t *testing.T, k, v, w string) {
		m := map[string]string{k: v, w: k}
		enc := encodeMap(m)
		var viaStd map[string]string
		// Two keys that differ only in invalid bytes collide once those
		// are replaced, hence duplicate names are allowed here.
		if err := json.Unmarshal([]byte(enc), &viaStd, decOpts); err != nil {
			t.Fatalf("encodeMap wrote invalid JSON %q: %v", enc, err)
		}
		got, err := decodeMap([]byte(enc))
		require.NoError(t, err)
		assert.Equal(t, viaStd, got)
		for range 2 { // the second time, strings come from the interner
			shared, err := decodeMapWith([]byte(enc), in)
			require.NoError(t, err)
			assert.Equal(t, got, shared)
		}
		if utf8.ValidString(k) && utf8.ValidString(v) && utf8.ValidString(w) {
			assert.Equal(t, m, got)
		}
		l := []string{k, v, w}
		gotL, err := decodeList([]byte(encodeList(l)))
		require.NoError(t, err)
		if utf8.ValidString(k) && utf8.ValidString(v) && utf8.ValidString(w) {
			assert.Equal(t, l, gotL)
		}
	})
}

// Rows loaded from the file share repeated text instead of holding a copy
// each, whatever else the rows hold.
func TestInternerSharesRepeatedStrings(t *testing.T) {
	in := newInterner()
	a, err := decodeMapWith([]byte(`{"severity":"critical","pod":"p-1"}`), in)
	require.NoError(t, err)
	b, err := decodeMapWith([]byte(`{"severity":"critical","pod":"p-2"}`), in)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"severity": "critical", "pod": "p-2"}, b)
	assert.Same(t, unsafe.StringData(a["severity"]), unsafe.StringData(b["severity"]))
	long := strings.Repeat("x", internMaxLen+1)
	assert.Equal(t, long, in.str([]byte(long)))
	var nilIn *interner
	assert.Equal(t, "v", nilIn.str([]byte("v")))
}
