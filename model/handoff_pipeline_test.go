package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model/hostiletest"
)

// pipelineFixture is a late shift (15:00–23:00 UTC) with one episode that
// began before it and ended in it, one still open at its end, one that
// ended after it, and two outside it.
func pipelineFixture() (*History, HandoffOptions) {
	at := func(hhmm string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", "2026-03-02 "+hhmm)
		if err != nil {
			panic(err)
		}
		return tm
	}
	from, to := at("15:00"), at("23:00")
	opt := HandoffOptions{
		Window:   Window{Label: "late shift", From: from, To: to},
		Previous: Window{Label: "day shift", From: at("07:00"), To: from},
		Next:     Window{Label: "night shift", From: to, To: to.Add(8 * time.Hour)},
	}
	h := &History{From: opt.Previous.From, To: to, Pipeline: []PipelineEpisode{
		{ID: 1, Source: "prom-eu", Kind: FindingReload, Subject: "config reload failed", Text: "old", Began: at("11:00"), Ended: at("12:00")},
		{ID: 4, Source: "am-eu", Kind: FindingCluster, Subject: "cluster split (1 of 2 peers)", Text: "settling", Began: at("21:30")},
		{ID: 2, Source: "prom-eu", Kind: FindingRule, Subject: "checkout/CheckoutErrors", Text: "found duplicate series for the match group",
			Began: at("14:00"), Ended: at("16:10")},
		{ID: 5, Source: "prom-eu", Kind: FindingStuck, Subject: "node", Text: "last evaluated 2026-03-02T21:59:00Z, every 1m0s",
			Began: at("22:00"), Ended: at("23:30")},
	}}
	return h, opt
}

// The handoff's "Alerting pipeline" section lists every episode that
// overlaps the shift by start: an episode that began before the shift
// counts from its start in this shift's time and from its own in all; an
// open one says so and counts to the shift's end.
func TestHandoffPipelineSection(t *testing.T) {
	h, opt := pipelineFixture()
	r := BuildHandoff(h, opt)
	require.Len(t, r.Pipeline, 3)
	closed, open, after := r.Pipeline[0], r.Pipeline[1], r.Pipeline[2]

	assert.Equal(t, "prom-eu", closed.Source)
	assert.Equal(t, "rule checkout/CheckoutErrors failing", closed.What)
	require.NotNil(t, closed.Ended)
	assert.Equal(t, int64(70*60), closed.Seconds, "from the shift's start")
	assert.Equal(t, int64(130*60), closed.TotalSeconds, "from its own start")

	assert.Equal(t, "am-eu", open.Source)
	assert.Equal(t, "cluster split (1 of 2 peers)", open.What)
	assert.Nil(t, open.Ended, "still degraded at the shift's end")
	assert.Equal(t, int64(90*60), open.Seconds, "to the shift's end")
	assert.Equal(t, int64(90*60), open.TotalSeconds)

	assert.Equal(t, "rule group node stuck", after.What)
	assert.Nil(t, after.Ended, "it ended after the shift: still degraded at its end")
	assert.Equal(t, int64(60*60), after.Seconds)

	md := r.Markdown()
	assert.Contains(t, md, "## Alerting pipeline\n\n"+
		"- **prom-eu** rule checkout/CheckoutErrors failing: began Mon 02 Mar 14:00, ended Mon 02 Mar 16:10 "+
		"(1h10m in this shift, 2h10m in all): “found duplicate series for the match group”\n"+
		"- **am-eu** cluster split (1 of 2 peers): began Mon 02 Mar 21:30, still degraded (1h30m in this shift, 1h30m in all): “settling”\n"+
		"- **prom-eu** rule group node stuck: began Mon 02 Mar 22:00, still degraded (1h00m in this shift, 1h00m in all): "+
		"“last evaluated 2026-03-02T21:59:00Z, every 1m0s”\n\n")
	assert.NotContains(t, md, "config reload failed", "an episode that ended before the shift is not in it")

	// The day shift's report counts the first episode to its own end.
	prev := opt
	prev.Window, prev.Previous = opt.Previous, Window{From: opt.Previous.From.Add(-8 * time.Hour), To: opt.Previous.From}
	pr := BuildHandoff(h, prev)
	require.Len(t, pr.Pipeline, 2)
	assert.Equal(t, "config reload failed", pr.Pipeline[0].What)
	assert.Equal(t, int64(3600), pr.Pipeline[0].Seconds)
	assert.Nil(t, pr.Pipeline[1].Ended, "it ended after the day shift")
	assert.Equal(t, int64(3600), pr.Pipeline[1].Seconds)

	// None: the section says so.
	h.Pipeline = nil
	assert.Contains(t, BuildHandoff(h, opt).Markdown(), "## Alerting pipeline\n\nNo degradation of the alerting pipeline in this shift.\n")
}

// The JSON carries the section as `pipeline`, with the names and types
// docs/handoff.md gives it: RFC 3339 times, `ended` null while degraded.
func TestHandoffPipelineJSON(t *testing.T) {
	h, opt := pipelineFixture()
	js, err := BuildHandoff(h, opt).JSON()
	require.NoError(t, err)
	var doc struct {
		Version  int              `json:"version"`
		Pipeline []map[string]any `json:"pipeline"`
	}
	require.NoError(t, json.Unmarshal(js, &doc))
	assert.Equal(t, 6, doc.Version)
	require.Len(t, doc.Pipeline, 3)
	first := doc.Pipeline[0]
	assert.Equal(t, map[string]any{"source": "prom-eu", "kind": "rule", "subject": "checkout/CheckoutErrors",
		"what": "rule checkout/CheckoutErrors failing", "text": "found duplicate series for the match group",
		"began": "2026-03-02T14:00:00Z", "ended": "2026-03-02T16:10:00Z", "seconds": float64(4200), "total_seconds": float64(7800)}, first)
	assert.Nil(t, doc.Pipeline[1]["ended"])
	assert.Contains(t, doc.Pipeline[1], "ended", "null, not left out")

	// Every field is documented in the pipeline row of the JSON table.
	spec, err := os.ReadFile(filepath.Join("..", "docs", "handoff.md"))
	require.NoError(t, err)
	row := regexp.MustCompile("(?m)^\\| `pipeline\\[\\]` \\|.*$").Find(spec)
	require.NotNil(t, row, "docs/handoff.md has a `pipeline[]` row")
	var keys []string
	for k := range first {
		keys = append(keys, k)
		assert.Contains(t, string(row), "`"+k+"`", "docs/handoff.md documents pipeline[].%s", k)
	}
	sort.Strings(keys)
	assert.Len(t, keys, 9)
	assert.Contains(t, string(spec), "## JSON shape (version 6)")

	// An empty section is an empty list, never null.
	h.Pipeline = nil
	js, err = BuildHandoff(h, opt).JSON()
	require.NoError(t, err)
	assert.Contains(t, string(js), `"pipeline": []`)
}

// Upstream words in an episode (source, subject, text; a kind a newer
// version wrote) are inert in the Markdown: the section has exactly the
// structure of the same section built from plain words, and nothing a
// terminal would act on. The JSON carries them exactly.
func TestHandoffPipelineHostileText(t *testing.T) {
	corpus := hostiletest.Corpus(t)
	for i, s := range corpus {
		corpus[i] = s[:min(len(s), 64<<10)]
	}
	kinds := []FindingKind{FindingRule, FindingStuck, FindingReload, FindingCluster, FindingNotify}
	build := func(strs []string) *Handoff {
		h, opt := pipelineFixture()
		h.Pipeline = nil
		for i := range strs {
			e := PipelineEpisode{ID: int64(i), Source: strs[i], Kind: kinds[i%len(kinds)], Subject: strs[(i+1)%len(strs)],
				Text: strs[(i+2)%len(strs)], Began: opt.Window.From.Add(time.Duration(i) * time.Minute)}
			if i%2 == 0 {
				e.Ended = e.Began.Add(time.Minute)
			}
			if i%7 == 3 {
				e.Kind = FindingKind(strs[(i+3)%len(strs)])
			}
			h.Pipeline = append(h.Pipeline, e)
		}
		return BuildHandoff(h, opt)
	}
	const chunk = 24
	for start := 0; start < len(corpus); start += chunk {
		strs := corpus[start:min(start+chunk, len(corpus))]
		plain := make([]string, len(strs))
		for i := range plain {
			plain[i] = fmt.Sprintf("plain%d", i)
		}
		what := fmt.Sprintf("corpus[%d:%d]", start, start+len(strs))
		r := build(strs)
		got, want := strings.Split(r.Markdown(), "\n"), strings.Split(build(plain).Markdown(), "\n")
		require.Equal(t, len(want), len(got), "%s: the report has another number of lines", what)
		for i := range got {
			require.True(t, utf8.ValidString(got[i]), "%s: line %d is not valid UTF-8", what, i+1)
			for _, c := range got[i] {
				if unicode.Is(unicode.Cc, c) || unicode.Is(unicode.Bidi_Control, c) || c == 0x2028 || c == 0x2029 {
					t.Fatalf("%s: line %d carries %U: %q", what, i+1, c, got[i])
				}
			}
			if strongBroken(got[i]) {
				t.Fatalf("%s: line %d has bold text that does not read as bold: %q", what, i+1, got[i])
			}
			if g, w := mdSkeleton(got[i]), mdSkeleton(want[i]); g != w {
				t.Fatalf("%s: line %d reads as other Markdown than the plain report's\n got %q\nwant %q\nline %q", what, i+1, g, w, got[i])
			}
		}

		js, err := r.JSON()
		require.NoError(t, err, what)
		var back Handoff
		require.NoError(t, json.Unmarshal(js, &back), what)
		require.Len(t, back.Pipeline, len(strs), what)
		for i, p := range back.Pipeline {
			valid := func(s string) string { return string([]rune(s)) }
			w := r.Pipeline[i]
			assert.Equal(t, valid(w.Source), p.Source, what)
			assert.Equal(t, valid(w.Subject), p.Subject, what)
			assert.Equal(t, valid(w.Text), p.Text, what)
			assert.Equal(t, valid(w.Kind), p.Kind, what)
		}
	}
}
