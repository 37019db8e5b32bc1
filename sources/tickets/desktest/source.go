package desktest

import (
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	pconfig "github.com/prometheus/common/config"

	"sitroom/model"
	"sitroom/sources"
)

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// NewSource builds a source with build (rt.New, jira.New,
// servicenow.New) from o, changed by mod first when mod is not nil, and
// fails t when build refuses the options.
func NewSource[O, S any](t TB, build func(O) (S, error), o O, mod func(*O)) S {
	t.Helper()
	if mod != nil {
		mod(&o)
	}
	s, err := build(o)
	if err != nil {
		t.Fatalf("new source: %v", err)
	}
	return s
}

// BasicAuthClient returns the HTTP client named name that a source gets
// from a config with these basic-auth credentials.
func BasicAuthClient(t TB, user, password, name string) *http.Client {
	t.Helper()
	c, err := sources.NewHTTPClient(pconfig.HTTPClientConfig{BasicAuth: &pconfig.BasicAuth{Username: user, Password: pconfig.Secret(password)}}, name)
	if err != nil {
		t.Fatalf("HTTP client %s: %v", name, err)
	}
	return c
}

// ByNumber indexes tickets by their number (a Jira key, a ServiceNow
// incident number); of tickets with one number, the last stays.
func ByNumber(ts []model.Ticket) map[string]model.Ticket {
	return index(ts, func(t model.Ticket) string { return t.Number })
}

// ByID indexes tickets by their id; of tickets with one id, the last
// stays.
func ByID(ts []model.Ticket) map[string]model.Ticket {
	return index(ts, func(t model.Ticket) string { return t.ID })
}

func index(ts []model.Ticket, key func(model.Ticket) string) map[string]model.Ticket {
	m := map[string]model.Ticket{}
	for _, t := range ts {
		m[key(t)] = t
	}
	return m
}

// Keys returns the keys of m, in no particular order.
func Keys[V any](m map[string]V) []string {
	return slices.Collect(maps.Keys(m))
}

// Clock is a settable clock for a source's Now: Now reads T.
type Clock struct{ T time.Time }

// Now returns the time the clock is set to.
func (c *Clock) Now() time.Time { return c.T }

// Pages renders items 0 … n-1 as a desk's JSON pages of 100: each page is
// head, the page's items as item writes them, joined by commas, and
// tail. It returns the pages and their size in bytes.
func Pages(n int, head, tail string, item func(w io.Writer, i int)) (pages [][]byte, size int) {
	for start := 0; start < n; start += 100 {
		var sb strings.Builder
		sb.WriteString(head)
		for i := start; i < min(start+100, n); i++ {
			if i > start {
				sb.WriteByte(',')
			}
			item(&sb, i)
		}
		sb.WriteString(tail)
		pages = append(pages, []byte(sb.String()))
		size += sb.Len()
	}
	return pages, size
}

// B is the part of *testing.B Bench uses.
type B interface {
	TB
	SetBytes(n int64)
	ReportAllocs()
	Loop() bool
}

// Bench benchmarks decoding and mapping pages of size bytes (as Pages
// returns them): each round hands every page to decode, which maps the
// page's tickets and returns how many. It fails b on a decode error, or
// when a round maps other than want tickets.
func Bench(b B, pages [][]byte, size, want int, decode func(page []byte) (int, error)) {
	b.Helper()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, p := range pages {
			k, err := decode(p)
			if err != nil {
				b.Fatalf("%v", err)
			}
			n += k
		}
		if n != want {
			b.Fatalf("mapped %s, want %d", model.Plural(n, "ticket", "tickets"), want)
		}
	}
}
