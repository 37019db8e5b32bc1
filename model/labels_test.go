package model

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	pmodel "github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLabelsReadLikeAMap(t *testing.T) {
	long := strings.Repeat("v", 300) // a length that takes two bytes to write
	m := map[string]string{"severity": "critical", "alertname": "DiskFull", "": "empty name", "z": "", "desc": long}
	l := LabelsFromMap(m)
	assert.Equal(t, 5, l.Len())
	assert.Equal(t, m, l.Map())
	for k, v := range m {
		assert.Equal(t, v, l.Get(k), k)
		assert.True(t, l.Has(k), k)
	}
	assert.Equal(t, "", l.Get("missing"))
	assert.False(t, l.Has("missing"))
	v, ok := l.Lookup("z")
	assert.True(t, ok, "a label with an empty value is there")
	assert.Equal(t, "", v)
	assert.Equal(t, []string{"", "alertname", "desc", "severity", "z"}, l.Names(), "sorted by name")
	var seen []string
	l.Range(func(k, _ string) bool { seen = append(seen, k); return k != "alertname" })
	assert.Equal(t, []string{"", "alertname"}, seen, "Range stops when told")

	var zero Labels
	assert.True(t, zero.IsEmpty())
	assert.Equal(t, 0, zero.Len())
	assert.Nil(t, zero.Map())
	assert.True(t, LabelsFromMap(nil).Equal(zero))
	assert.True(t, LabelsFromMap(map[string]string{}).Equal(zero))
}

func TestLabelsConstructorsAgree(t *testing.T) {
	m := map[string]string{"b": "2", "a": "1", "c": "3"}
	l := LabelsFromMap(m)
	assert.True(t, l.Equal(LabelsFromPairs("c", "3", "a", "1", "b", "2")))
	assert.True(t, l.Equal(SortedLabels("a", "1", "b", "2", "c", "3")))
	assert.True(t, l.Equal(LabelsFromPairs("a", "0", "b", "2", "c", "3", "a", "1")), "the last value of a name wins")
	assert.False(t, l.Equal(l.With("d", "4")))
	assert.Equal(t, "4", l.With("d", "4").Get("d"))
	assert.Equal(t, "9", l.With("a", "9").Get("a"))
	assert.Equal(t, map[string]string{"b": "2"}, l.Without("a", "c", "x").Map())
	assert.Equal(t, `{a="1", b="2", c="3"}`, l.String())
	assert.Equal(t, l.Hash(), LabelsFromPairs("c", "3", "b", "2", "a", "1").Hash())
	assert.NotEqual(t, l.Hash(), l.With("a", "2").Hash())
}

func TestLabelsJSONIsAnObject(t *testing.T) {
	type doc struct {
		Labels Labels `json:"labels"`
	}
	m := map[string]string{"b": "x\"y", "a": "é"}
	got, err := json.Marshal(doc{Labels: LabelsFromMap(m)})
	require.NoError(t, err)
	want, err := json.Marshal(map[string]map[string]string{"labels": m})
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
	assert.Equal(t, string(want), string(got), "the same bytes as the map it replaces")
	var back doc
	require.NoError(t, json.Unmarshal(got, &back))
	assert.True(t, back.Labels.Equal(LabelsFromMap(m)))
	got, err = json.Marshal(doc{})
	require.NoError(t, err)
	assert.Equal(t, `{"labels":{}}`, string(got))
}

// The cache's stored keys and content hashes stay valid: LabelsKey is
// the Prometheus fingerprint and ContentHash hashes the pairs in the
// order the map-based version did.
func TestLabelsKeyAndContentHashUnchanged(t *testing.T) {
	m := map[string]string{"alertname": "HighErrorRate", "service": "checkout", "replica": "r1", "zone": ""}
	ls := pmodel.LabelSet{}
	for k, v := range m {
		if k != "replica" {
			ls[pmodel.LabelName(k)] = pmodel.LabelValue(v)
		}
	}
	assert.Equal(t, ls.Fingerprint().String(), LabelsKey(LabelsFromMap(m), []string{"replica"}))

	ann := map[string]string{"summary": "5xx above 5%", "runbook_url": "https://rb/x"}
	a := Alert{Key: "k", Labels: LabelsFromMap(m), Annotations: LabelsFromMap(ann), State: StateFiring,
		StartsAt: StampOf(time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)), GeneratorURL: "http://prom/graph", Suppressed: Suppress([]string{"s1"}, nil)}
	// The map-based ContentHash, as it was written.
	h := fnv.New64a()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0xff}) }
	writeSorted := func(m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			w(k)
			w(m[k])
		}
	}
	w("k")
	w("firing")
	w(a.StartsAt.Time().Format(time.RFC3339Nano))
	w("http://prom/graph")
	writeSorted(m)
	w("\x00annotations")
	writeSorted(ann)
	w("\x00silenced")
	w("s1")
	w("\x00inhibited")
	assert.Equal(t, h.Sum64(), a.ContentHash())
}

func TestShownAnnotationsKeepWhatPanelsRead(t *testing.T) {
	full := LabelsFromMap(map[string]string{"description": "long", "message": "msg", "runbook": "rb2", "runbook_url": "rb1", "x": "y"})
	shown := ShownAnnotations(full)
	assert.Equal(t, map[string]string{"message": "msg", "runbook_url": "rb1"}, shown.Map(),
		"the summary falls back to message before description; runbook_url before runbook")
	sig := &Signal{AlertRow: &AlertRow{Alert: Alert{Annotations: shown}}}
	full2 := &Signal{AlertRow: &AlertRow{Alert: Alert{Annotations: full}}}
	assert.Equal(t, full2.Summary(), sig.Summary())
	assert.Equal(t, full2.RunbookURL(), sig.RunbookURL())
	only := LabelsFromPairs("summary", "s")
	assert.Equal(t, only, ShownAnnotations(only), "nothing to drop: the same set")
	assert.True(t, ShownAnnotations(LabelsFromPairs("other", "x")).IsEmpty())
}

func TestLabelsRepeatedValuesCostReferences(t *testing.T) {
	set := func(i int) Labels {
		return LabelsFromMap(map[string]string{
			"alertname": "SymbolsHighErrorRate", "severity": "critical", "job": "api",
			"cluster": "eu-west-1", "namespace": "team-web", "prometheus": "monitoring/k8s",
			"instance": fmt.Sprintf("10.9.%d.%d:9100", i/250, i%250),
		})
	}
	for i := range 5000 {
		l := set(i)
		require.Equal(t, fmt.Sprintf("10.9.%d.%d:9100", i/250, i%250), l.Get("instance"))
	}
	// The instance values beyond the per-name budget are written out;
	// the six repeated pairs cost a reference each.
	l := set(4999)
	assert.LessOrEqual(t, len(l.data), 48, "six repeated pairs and one unique value (written out: 120 bytes)")
	assert.Equal(t, "critical", l.Get("severity"))
	assert.Equal(t, "monitoring/k8s", l.Get("prometheus"))
}

func TestLabelsOneEncodingWhateverTheOrder(t *testing.T) {
	// A value first met once its name took its share of the table is
	// always written out; one met before is always a reference: equal
	// sets are equal strings whenever each was built.
	name := fmt.Sprintf("symbols_order_%d", time.Now().UnixNano())
	early := LabelsFromPairs(name, "v-0", "x", "y")
	for i := range symbols.maxPerName + 10 {
		LabelsFromPairs(name, fmt.Sprintf("v-%d", i))
	}
	late := LabelsFromPairs(name, fmt.Sprintf("v-%d", symbols.maxPerName+5), "x", "y")
	assert.True(t, early.Equal(LabelsFromPairs("x", "y", name, "v-0")))
	assert.Equal(t, early.Hash(), LabelsFromMap(map[string]string{name: "v-0", "x": "y"}).Hash())
	assert.True(t, late.Equal(LabelsFromPairs("x", "y", name, fmt.Sprintf("v-%d", symbols.maxPerName+5))))
	assert.Equal(t, fmt.Sprintf("v-%d", symbols.maxPerName+5), late.Get(name))
	long := strings.Repeat("l", maxSymbolLen+1)
	assert.Equal(t, long, LabelsFromPairs(name, long).Get(name), "a long value is written out")
}

func TestLabelsBuiltAndReadConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				v := fmt.Sprintf("c-%d-%d", g, i)
				l := LabelsFromPairs("symbols_concurrent", v, "n", fmt.Sprint(i%7))
				if l.Get("symbols_concurrent") != v || l.Get("n") != fmt.Sprint(i%7) {
					t.Errorf("read back %v", l)
					return
				}
			}
		})
	}
	wg.Wait()
}
