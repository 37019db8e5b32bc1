package cache

import (
	"bytes"
	"hash/maphash"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"sitroom/model"
)

// ns is t as unix nanoseconds; the zero time is 0.
func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNS is the inverse of ns, in UTC.
func fromNS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

// norm is t as it reads back from disk: UTC, no monotonic reading.
func norm(t time.Time) time.Time { return fromNS(ns(t)) }

// Labels, annotations and the silenced/inhibited lists are stored as JSON
// text. They are flat objects and arrays of strings, so they are encoded
// and decoded by hand here (several times faster than a general encoder
// and allocation-free apart from the strings themselves). Invalid UTF-8
// from an upstream is stored with U+FFFD in its place. Keys are written
// sorted, so equal maps give equal text. Text the fast decoder does not
// expect (written by another tool, say) goes through a general decoder.
var decOpts = json.JoinOptions(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))

func encodeMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	var small [16]string
	keys := small[:0]
	n := 2
	for k, v := range m {
		keys = append(keys, k)
		n += len(k) + len(v) + 6
	}
	slices.Sort(keys)
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, k)
		b = append(b, ':')
		b = appendQuoted(b, m[k])
	}
	b = append(b, '}')
	return unsafeString(b)
}

// encodeLabels writes l as encodeMap writes the same pairs as a map.
func encodeLabels(l model.Labels) string {
	if l.IsEmpty() {
		return "{}"
	}
	n := 2
	for k, v := range l.All() {
		n += len(k) + len(v) + 6
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	first := true
	for k, v := range l.All() {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendQuoted(b, k)
		b = append(b, ':')
		b = appendQuoted(b, v)
	}
	b = append(b, '}')
	return unsafeString(b)
}

// decodeLabels reads what encodeLabels (or encodeMap) wrote into one
// model.Labels, without a string per pair; other text goes through the
// general decoder.
func decodeLabels(b []byte) (model.Labels, error) {
	if len(b) <= 2 { // "{}" or empty
		return model.Labels{}, nil
	}
	if b[0] == '{' && b[len(b)-1] == '}' {
		var small [32]string
		pairs, ok := small[:0], true
		sorted := true
		for i := 1; ok; {
			var k, v string
			var j int
			if k, j, ok = readString(b, i, viewStrings); !ok || j >= len(b) || b[j] != ':' {
				ok = false
				break
			}
			if v, j, ok = readString(b, j+1, viewStrings); !ok || j >= len(b) {
				ok = false
				break
			}
			if len(pairs) > 0 && pairs[len(pairs)-2] >= k {
				sorted = false
			}
			pairs = append(pairs, k, v)
			if b[j] == '}' {
				ok = j == len(b)-1
				break
			}
			if b[j] != ',' {
				ok = false
				break
			}
			i = j + 1
		}
		if ok {
			if sorted {
				return model.SortedLabels(pairs...), nil
			}
			return model.LabelsFromPairs(pairs...), nil
		}
	}
	m, err := decodeMap(b)
	return model.LabelsFromMap(m), err
}

func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	n := 2
	for _, v := range l {
		n += len(v) + 3
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, v := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, v)
	}
	b = append(b, ']')
	return unsafeString(b)
}

// unsafeString hands over b, which nothing else references, as a string.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, "\\ufffd"...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func decodeMap(b []byte) (map[string]string, error) { return decodeMapWith(b, nil) }

func decodeList(b []byte) ([]string, error) { return decodeListWith(b, nil) }

// decodeMapWith is decodeMap sharing short strings through in (which may
// be nil).
func decodeMapWith(b []byte, in *interner) (map[string]string, error) {
	if len(b) <= 2 { // "{}" or empty
		return nil, nil
	}
	if m, ok := fastDecodeMap(b, in); ok {
		return m, nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m, decOpts); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeListWith(b []byte, in *interner) ([]string, error) {
	if len(b) <= 2 {
		return nil, nil
	}
	if l, ok := fastDecodeList(b, in); ok {
		return l, nil
	}
	var l []string
	if err := json.Unmarshal(b, &l, decOpts); err != nil {
		return nil, err
	}
	return l, nil
}

// fastDecodeMap decodes the exact form encodeMap writes; ok is false for
// anything else.
func fastDecodeMap(b []byte, in *interner) (map[string]string, bool) {
	if b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false
	}
	m := make(map[string]string, bytes.Count(b, []byte{'"'})/4)
	i := 1
	for {
		k, j, ok := readString(b, i, in)
		if !ok || j >= len(b) || b[j] != ':' {
			return nil, false
		}
		v, j, ok := readString(b, j+1, in)
		if !ok || j >= len(b) {
			return nil, false
		}
		m[k] = v
		switch b[j] {
		case ',':
			i = j + 1
		case '}':
			return m, j == len(b)-1
		default:
			return nil, false
		}
	}
}

func fastDecodeList(b []byte, in *interner) ([]string, bool) {
	if b[0] != '[' || b[len(b)-1] != ']' {
		return nil, false
	}
	l := make([]string, 0, bytes.Count(b, []byte{'"'})/2)
	i := 1
	for {
		v, j, ok := readString(b, i, in)
		if !ok || j >= len(b) {
			return nil, false
		}
		l = append(l, v)
		switch b[j] {
		case ',':
			i = j + 1
		case ']':
			return l, j == len(b)-1
		default:
			return nil, false
		}
	}
}

// readString reads the JSON string starting at b[i] and returns it and the
// index just past it.
func readString(b []byte, i int, in *interner) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	i++
	start := i
	for i < len(b) && b[i] != '"' && b[i] != '\\' {
		i++
	}
	if i < len(b) && b[i] == '"' {
		return in.str(b[start:i]), i + 1, true
	}
	// Escapes: unquote the rest.
	out := append([]byte(nil), b[start:i]...)
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return unsafeString(out), i + 1, true
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return "", 0, false
		}
		switch b[i+1] {
		case '"', '\\', '/':
			out = append(out, b[i+1])
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				return "", 0, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					r2, ok = hex4(b, i+2)
				}
				if ok && utf16.DecodeRune(r, r2) != utf8.RuneError {
					r = utf16.DecodeRune(r, r2)
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", 0, false
		}
		i += 2
	}
	return "", 0, false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// stripUserinfo removes user:password@ from every URL authority in s, so a
// generator URL or an error message quoting a URL cannot carry credentials
// into the cache.
func stripUserinfo(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, "/?# \t\r\n\"'<>")
		if end < 0 {
			end = len(s)
		}
		if at := strings.LastIndexByte(s[:end], '@'); at >= 0 {
			s = s[at+1:]
		}
	}
}

// maxErrorLen bounds the error text stored for a source: upstream bodies
// quoted in errors can be arbitrarily large.
const maxErrorLen = 2000

func clipError(s string) string {
	s = stripUserinfo(s)
	if len(s) <= maxErrorLen {
		return s
	}
	cut := maxErrorLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// interner shares the memory of strings that repeat from row to row (label
// names, severities, job and cluster names, templated annotations) when the
// mirror is loaded: a direct-mapped table of recent strings, so its size
// is fixed whatever the rows hold. A nil *interner copies every string.
type interner struct {
	seed  maphash.Seed
	slots []string
	// view hands out strings that alias the bytes read (no copy): for a
	// decoder that copies them into a model.Labels before the bytes change.
	view bool
}

// viewStrings is the interner of decodeLabels.
var viewStrings = &interner{view: true}

const (
	internSlots  = 1 << 14 // a power of two
	internMaxLen = 128
)

func newInterner() *interner {
	return &interner{seed: maphash.MakeSeed(), slots: make([]string, internSlots)}
}

func (in *interner) str(b []byte) string {
	if in != nil && in.view {
		return unsafeString(b)
	}
	if in == nil || len(b) > internMaxLen {
		return string(b)
	}
	if len(b) == 0 {
		return ""
	}
	slot := &in.slots[maphash.Bytes(in.seed, b)&(internSlots-1)]
	if *slot == string(b) {
		return *slot
	}
	*slot = string(b)
	return *slot
}
