package prometheus

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/sourcetest"
)

// decoding is this package's decoding for the shared decode tests, with
// the replies captured from a real Prometheus.
var decoding = sourcetest.Decoding{
	Upstream:   "prometheus",
	Payloads:   []string{"alerts.json", "alerts-odd.json", "error-bad-data.json"},
	Decode:     Decode,
	NewDecoder: NewDecoder,
}

func TestDecodeCapturedPayload(t *testing.T) {
	alerts, err := Decode(sources.NewJSONScanner(), decoding.Payload(t, "alerts.json"), nil)
	require.NoError(t, err)
	states := map[string]model.State{}
	for _, a := range alerts {
		states[a.Name()] = a.State
		assert.Equal(t, model.LabelsKey(a.Labels, nil), a.Key)
		assert.False(t, a.StartsAt.IsZero())
		assert.NotEmpty(t, a.Annotations.Get("summary"))
	}
	assert.Equal(t, model.StateFiring, states["HighErrorRate"])
	assert.Equal(t, model.StatePending, states["CertExpiringSoon"])
}

func TestDecodeOddPayload(t *testing.T) {
	alerts, err := Decode(sources.NewJSONScanner(), decoding.Payload(t, "alerts-odd.json"), []string{"service"})
	require.NoError(t, err)
	require.Len(t, alerts, 2, "the inactive alert is skipped")
	a := alerts[0]
	assert.Equal(t, "Odd\x1b[31m", a.Name(), "text is kept as sent; rendering it inert is the UI's job")
	assert.Equal(t, time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), a.StartsAt.Time())
	assert.True(t, a.Annotations.IsEmpty())
	assert.Equal(t, model.LabelsKey(a.Labels, []string{"service"}), a.Key)
	assert.NotEqual(t, model.LabelsKey(a.Labels, nil), a.Key, "ignored labels change the key")
	b := alerts[1]
	assert.Equal(t, model.StatePending, b.State)
	assert.True(t, b.Labels.IsEmpty())
	assert.Equal(t, model.LabelsKey(model.Labels{}, nil), b.Key)
	assert.True(t, b.StartsAt.IsZero())
}

func TestDecodeErrors(t *testing.T) {
	decoding.CheckErrors(t, map[string]sourcetest.DecodeError{
		"error status":   {In: string(decoding.Payload(t, "error-bad-data.json")), Kind: sources.KindAPI, Msg: `Prometheus error bad_data: invalid parameter "query": 1:2: parse error: unclosed left parenthesis`},
		"no status":      {In: `{"data":{"alerts":[]}}`, Kind: sources.KindMalformed, Msg: `malformed reply: no "status" in reply (is this a Prometheus API?)`},
		"array":          {In: `[]`, Kind: sources.KindMalformed, Msg: "malformed reply: expected a JSON object (is this a Prometheus API?)"},
		"labels wrong":   {In: `{"status":"success","data":{"alerts":[{"labels":{"a":1}}]}}`, Kind: sources.KindMalformed, Msg: `malformed reply: labels: expected a string, found number at byte 53`},
		"bad time":       {In: `{"status":"success","data":{"alerts":[{"activeAt":"yesterday"}]}}`, Kind: sources.KindMalformed, Msg: `malformed reply: activeAt: bad time "yesterday" at byte 50`},
		"truncated":      {In: `{"status":"success","data":{"alerts":[{"labels":{"a":"b"}`, Kind: sources.KindTruncated, Msg: "truncated reply"},
		"trailing":       {In: `{"status":"success"} x`, Kind: sources.KindMalformed, Msg: "malformed reply: data after the end of the reply at byte 21"},
		"unknown status": {In: `{"status":"maybe"}`, Kind: sources.KindMalformed, Msg: `malformed reply: unknown status "maybe"`},
	})
}

func FuzzDecodePrometheus(f *testing.F) {
	decoding.AddPayloads(f)
	f.Add([]byte(`{"status":"success","data":{"alerts":[{"labels":{"a":"\ud800"},"state":"firing"}]}}`))
	decoding.Fuzz(f, []string{"cluster"}, []model.State{model.StateFiring, model.StatePending}, func(t *testing.T, a model.Alert) {
		for k, v := range a.Labels.All() {
			assert.True(t, strings.ToValidUTF8(k, "") == k && strings.ToValidUTF8(v, "") == v, "invalid UTF-8 in %q=%q", k, v)
		}
	})
}

// A Decoder reuses the alerts of the previous reply that did not change;
// whatever the previous reply was, its result must equal Decode's.
func TestDecoderAcrossPollsEqualsDecode(t *testing.T) {
	base := `{"status":"success","data":{"alerts":[
	 {"labels":{"alertname":"A","cluster":"eu"},"annotations":{"summary":"s"},"state":"firing","activeAt":"2026-11-26T10:00:00Z","value":"1e+00"},
	 {"labels":{"alertname":"B"},"annotations":{},"state":"pending","activeAt":"2026-11-26T10:01:00Z","value":"2e+00"},
	 {"labels":{"alertname":"C"},"state":"inactive"}]}}`
	polls := []string{
		base,
		strings.ReplaceAll(base, `"value":"1e+00"`, `"value":"3e+00"`), // a new evaluation
		strings.Replace(base, `"summary":"s"`, `"summary":"changed"`, 1),
		strings.Replace(base, `"state":"pending"`, `"state":"firing"`, 1),
		strings.Replace(base, `"state":"inactive"`, `"state":"firing"`, 1),
		strings.Replace(base, `"alertname":"A","cluster":"eu"`, `"alertname":"A","cluster":"us"`, 1),
		`{"status":"error","errorType":"bad_data","error":"x","data":{"alerts":[{"labels":{},"state":"firing"}]}}`,
		`{"status":"success","data":{"alerts":[{"labels":{"alertname":"A"},"state":"fir`,
		base,
		`{"status":"success","data":{"alerts":[]}}`,
		base,
	}
	decoding.CheckAcrossPolls(t, []string{"cluster"}, polls)
}

func FuzzDecoderAfterCapturedPayloadEqualsDecode(f *testing.F) {
	decoding.AddPayloads(f)
	decoding.FuzzAfterPrimer(f, "alerts.json", []string{"cluster"})
}
