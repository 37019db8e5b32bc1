package cache

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
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

// Invalid UTF-8 from an upstream is stored with U+FFFD in its place rather
// than failing the whole poll.
var (
	encOpts = json.JoinOptions(jsontext.AllowInvalidUTF8(true), json.Deterministic(true))
	decOpts = json.JoinOptions(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))
)

func encodeMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m, encOpts)
	if err != nil { // unreachable for map[string]string; keep the row anyway
		return "{}"
	}
	return string(b)
}

func encodeList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, err := json.Marshal(l, encOpts)
	if err != nil {
		return "[]"
	}
	return string(b)
}

func decodeMap(b []byte) (map[string]string, error) {
	if len(b) <= 2 { // "{}" or empty
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m, decOpts); err != nil {
		return nil, err
	}
	return m, nil
}

func decodeList(b []byte) ([]string, error) {
	if len(b) <= 2 {
		return nil, nil
	}
	var l []string
	if err := json.Unmarshal(b, &l, decOpts); err != nil {
		return nil, err
	}
	return l, nil
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
