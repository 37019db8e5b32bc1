package alertmanager

import (
	stdjson "encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/sourcetest"
)

// decoding is this package's decoding for the shared decode tests, with
// the replies captured from a real Alertmanager.
var decoding = sourcetest.Decoding{
	Upstream:   "alertmanager",
	Payloads:   []string{"alerts.json", "alerts-silenced.json", "alerts-inhibited.json"},
	Decode:     Decode,
	NewDecoder: NewDecoder,
}

// The key computed for each alert is the Alertmanager's own fingerprint of
// its labels, so silences and inhibitions (which name fingerprints) can be
// related to rows.
func TestDecodeCapturedPayloadsKeyIsFingerprint(t *testing.T) {
	for _, name := range decoding.Payloads {
		data := decoding.Payload(t, name)
		var wire []struct {
			Fingerprint string `json:"fingerprint"`
			Status      struct {
				State string `json:"state"`
			} `json:"status"`
		}
		require.NoError(t, stdjson.Unmarshal(data, &wire))
		alerts, err := Decode(sources.NewJSONScanner(), data, nil)
		require.NoError(t, err, name)
		require.Len(t, alerts, len(wire), name)
		for i, a := range alerts {
			assert.Equal(t, wire[i].Fingerprint, a.Key, "%s: %s", name, a.Name())
			want := model.StateFiring
			if wire[i].Status.State == "suppressed" {
				want = model.StateSuppressed
			}
			assert.Equal(t, want, a.State)
		}
	}
}

func TestDecodeStates(t *testing.T) {
	in := `[
	 {"labels":{"alertname":"A"},"status":{"state":"active","silencedBy":[],"inhibitedBy":[]},"startsAt":"2026-11-26T10:00:00.5Z","generatorURL":"http://p/graph"},
	 {"labels":{"alertname":"B"},"status":{"state":"unprocessed"}},
	 {"labels":{"alertname":"C","cluster":"eu"},"status":{"state":"suppressed","silencedBy":["s1","s2"],"inhibitedBy":["f1"]},"receivers":[{"name":"x"}]},
	 {"labels":{"alertname":"D"},"status":{"state":"weird"}},
	 {"labels":{"alertname":"E"}}
	]`
	alerts, err := Decode(sources.NewJSONScanner(), []byte(in), []string{"cluster"})
	require.NoError(t, err)
	require.Len(t, alerts, 3, "alerts in unknown states are skipped")
	assert.Equal(t, model.StateFiring, alerts[0].State)
	assert.Equal(t, "http://p/graph", alerts[0].GeneratorURL)
	assert.Equal(t, 500_000_000, alerts[0].StartsAt.Time().Nanosecond())
	assert.Nil(t, alerts[0].SilencedBy())
	assert.Equal(t, model.StateFiring, alerts[1].State, "unprocessed alerts are new, not yet routed: firing")
	c := alerts[2]
	assert.Equal(t, model.StateSuppressed, c.State)
	assert.Equal(t, []string{"s1", "s2"}, c.SilencedBy())
	assert.Equal(t, []string{"f1"}, c.InhibitedBy())
	assert.Equal(t, map[string]string{"alertname": "C", "cluster": "eu"}, c.Labels.Map())
	assert.Equal(t, model.LabelsKey(model.LabelsFromMap(map[string]string{"alertname": "C"}), nil), c.Key, "ignored labels are left out of the key")
}

func TestDecodeErrors(t *testing.T) {
	decoding.CheckErrors(t, map[string]sourcetest.DecodeError{
		"object":    {In: `{"code":400,"message":"bad"}`, Kind: sources.KindMalformed, Msg: "malformed reply: expected a JSON array of alerts, found an object (is this an Alertmanager v2 API?)"},
		"empty":     {In: ``, Kind: sources.KindMalformed, Msg: "malformed reply: empty body"},
		"truncated": {In: `[{"labels":{"alertname":"A"},"status":{"state":"act`, Kind: sources.KindTruncated, Msg: "truncated reply"},
		"wrong":     {In: `[{"status":{"silencedBy":"x"}}]`, Kind: sources.KindMalformed, Msg: `malformed reply: status.silencedBy: expected '[', found string at byte 25`},
		"NUL after": {In: "[]\x00", Kind: sources.KindMalformed, Msg: "malformed reply: data after the end of the reply at byte 2"},
		"NUL":       {In: " \x00", Kind: sources.KindMalformed, Msg: "malformed reply: expected a JSON array of alerts"},
		"spaces":    {In: " \n ", Kind: sources.KindMalformed, Msg: "malformed reply: empty body"},
	})
}

func FuzzDecodeAlertmanager(f *testing.F) {
	decoding.AddPayloads(f)
	f.Add([]byte(`[{"labels":{"a":"\u00e9"},"status":{"state":"suppressed","silencedBy":null}}]`))
	decoding.Fuzz(f, []string{"replica"}, []model.State{model.StateFiring, model.StateSuppressed}, func(t *testing.T, a model.Alert) {
		for _, s := range append(append([]string{a.GeneratorURL}, a.SilencedBy()...), a.InhibitedBy()...) {
			assert.Equal(t, strings.ToValidUTF8(s, ""), s)
		}
	})
}

// A Decoder reuses the alerts of the previous reply that did not change;
// whatever the previous reply was, its result must equal Decode's.
func TestDecoderAcrossPollsEqualsDecode(t *testing.T) {
	base := `[
	 {"labels":{"alertname":"A","cluster":"eu"},"annotations":{"summary":"s"},"status":{"state":"active","silencedBy":[],"inhibitedBy":[]},"startsAt":"2026-11-26T10:00:00Z","updatedAt":"2026-11-26T10:00:00Z","endsAt":"2026-11-26T10:04:00Z","generatorURL":"http://p/graph"},
	 {"labels":{"alertname":"B"},"status":{"state":"suppressed","silencedBy":["s1"]},"startsAt":"2026-11-26T10:01:00Z"},
	 {"labels":{"alertname":"C"},"status":{"state":"weird"}}
	]`
	polls := []string{
		base,
		// resend: only updatedAt and endsAt move
		strings.ReplaceAll(strings.ReplaceAll(base, `"updatedAt":"2026-11-26T10:00:00Z"`, `"updatedAt":"2026-11-26T10:01:00Z"`),
			`"endsAt":"2026-11-26T10:04:00Z"`, `"endsAt":"2026-11-26T10:05:00Z"`),
		strings.Replace(base, `"summary":"s"`, `"summary":"changed"`, 1),
		strings.Replace(base, `"state":"suppressed","silencedBy":["s1"]`, `"state":"active","silencedBy":[]`, 1),
		strings.Replace(base, `"state":"weird"`, `"state":"active"`, 1),
		strings.Replace(base, `"alertname":"A","cluster":"eu"`, `"alertname":"A","cluster":"us"`, 1),
		`[{"labels":{"alertname":"A"},"status":{"state":"act`, // fails: the next poll still reuses the last good one
		base,
		`[]`,
		base,
	}
	decoding.CheckAcrossPolls(t, []string{"cluster"}, polls)
}

// The buffer a reply was read into is reused for the next reply: reused
// alerts must not point into it.
func TestDecoderResultsOutliveTheBuffer(t *testing.T) {
	d := NewDecoder(nil)
	buf := []byte(`[{"labels":{"alertname":"A","x":"y"},"annotations":{"summary":"` + strings.Repeat("long ", 20) + `"},"status":{"state":"active"}}]`)
	first, err := d.Decode(buf)
	require.NoError(t, err)
	want, err := Decode(sources.NewJSONScanner(), buf, nil)
	require.NoError(t, err)
	second, err := d.Decode(buf)
	require.NoError(t, err)
	for i := range buf {
		buf[i] = ' '
	}
	assert.Equal(t, want, first)
	assert.Equal(t, want, second)
}

func FuzzDecoderAfterCapturedPayloadEqualsDecode(f *testing.F) {
	decoding.AddPayloads(f)
	f.Add([]byte(`[{"labels":{"a":"\u00e9"},"status":{"state":"suppressed","silencedBy":null}}]`))
	decoding.FuzzAfterPrimer(f, "alerts-silenced.json", []string{"replica"})
}
