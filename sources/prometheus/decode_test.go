package prometheus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
)

func readPayload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "prometheus", name))
	require.NoError(t, err)
	return b
}

func TestDecodeCapturedPayload(t *testing.T) {
	alerts, err := Decode(sources.NewJSONScanner(), readPayload(t, "alerts.json"), nil)
	require.NoError(t, err)
	states := map[string]model.State{}
	for _, a := range alerts {
		states[a.Name()] = a.State
		assert.Equal(t, model.LabelsKey(a.Labels, nil), a.Key)
		assert.False(t, a.StartsAt.IsZero())
		assert.NotEmpty(t, a.Annotations["summary"])
	}
	assert.Equal(t, model.StateFiring, states["HighErrorRate"])
	assert.Equal(t, model.StatePending, states["CertExpiringSoon"])
}

func TestDecodeOddPayload(t *testing.T) {
	alerts, err := Decode(sources.NewJSONScanner(), readPayload(t, "alerts-odd.json"), []string{"service"})
	require.NoError(t, err)
	require.Len(t, alerts, 2, "the inactive alert is skipped")
	a := alerts[0]
	assert.Equal(t, "Odd\x1b[31m", a.Name(), "text is kept as sent; rendering it inert is the UI's job")
	assert.Equal(t, time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), a.StartsAt.UTC())
	assert.Nil(t, a.Annotations)
	assert.Equal(t, model.LabelsKey(a.Labels, []string{"service"}), a.Key)
	assert.NotEqual(t, model.LabelsKey(a.Labels, nil), a.Key, "ignored labels change the key")
	b := alerts[1]
	assert.Equal(t, model.StatePending, b.State)
	assert.Equal(t, map[string]string{}, b.Labels)
	assert.Equal(t, model.LabelsKey(nil, nil), b.Key)
	assert.True(t, b.StartsAt.IsZero())
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]struct {
		in   string
		kind sources.FetchErrorKind
		msg  string
	}{
		"error status":   {string(readPayload(t, "error-bad-data.json")), sources.KindAPI, `Prometheus error bad_data: invalid parameter "query": 1:2: parse error: unclosed left parenthesis`},
		"no status":      {`{"data":{"alerts":[]}}`, sources.KindMalformed, `malformed reply: no "status" in reply (is this a Prometheus API?)`},
		"array":          {`[]`, sources.KindMalformed, "malformed reply: expected a JSON object (is this a Prometheus API?)"},
		"labels wrong":   {`{"status":"success","data":{"alerts":[{"labels":{"a":1}}]}}`, sources.KindMalformed, `malformed reply: labels: expected a string, found number at byte 53`},
		"bad time":       {`{"status":"success","data":{"alerts":[{"activeAt":"yesterday"}]}}`, sources.KindMalformed, `malformed reply: activeAt: bad time "yesterday" at byte 50`},
		"truncated":      {`{"status":"success","data":{"alerts":[{"labels":{"a":"b"}`, sources.KindTruncated, "truncated reply"},
		"trailing":       {`{"status":"success"} x`, sources.KindMalformed, "malformed reply: data after the end of the reply at byte 21"},
		"unknown status": {`{"status":"maybe"}`, sources.KindMalformed, `malformed reply: unknown status "maybe"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(sources.NewJSONScanner(), []byte(c.in), nil)
			var fe *sources.FetchError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, c.kind, fe.Kind)
			assert.Equal(t, c.msg, err.Error())
		})
	}
}

func FuzzDecodePrometheus(f *testing.F) {
	for _, name := range []string{"alerts.json", "alerts-odd.json", "error-bad-data.json"} {
		f.Add(readPayload(f, name))
	}
	f.Add([]byte(`{"status":"success","data":{"alerts":[{"labels":{"a":"\ud800"},"state":"firing"}]}}`))
	sc := sources.NewJSONScanner()
	valid := []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}
	f.Fuzz(func(t *testing.T, data []byte) {
		alerts, err := Decode(sc, data, []string{"cluster"})
		if err != nil {
			var fe *sources.FetchError
			if !assert.ErrorAs(t, err, &fe) {
				return
			}
			assert.NotEmpty(t, fe.Msg)
			assert.NotContains(t, fe.Msg, "\n")
			return
		}
		assert.True(t, jsontext.Value(data).IsValid(valid...), "accepted invalid JSON %q", data)
		for _, a := range alerts {
			assert.Contains(t, []model.State{model.StateFiring, model.StatePending}, a.State)
			assert.NotNil(t, a.Labels)
			assert.Equal(t, model.LabelsKey(a.Labels, []string{"cluster"}), a.Key)
			for k, v := range a.Labels {
				assert.True(t, strings.ToValidUTF8(k, "") == k && strings.ToValidUTF8(v, "") == v, "invalid UTF-8 in %q=%q", k, v)
			}
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
	for _, name := range []string{"alerts.json", "alerts-odd.json", "error-bad-data.json"} {
		polls = append(polls, string(readPayload(t, name)))
	}
	polls = append(polls, polls...)
	d := NewDecoder([]string{"cluster"})
	for i, p := range polls {
		want, wantErr := Decode(sources.NewJSONScanner(), []byte(p), []string{"cluster"})
		got, err := d.Decode([]byte(p))
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error(), "poll %d", i)
			continue
		}
		require.NoError(t, err, "poll %d", i)
		require.Equal(t, want, got, "poll %d", i)
	}
}

func FuzzDecoderAfterCapturedPayloadEqualsDecode(f *testing.F) {
	for _, name := range []string{"alerts.json", "alerts-odd.json", "error-bad-data.json"} {
		f.Add(readPayload(f, name))
	}
	primer := readPayload(f, "alerts.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder([]string{"cluster"})
		_, err := d.Decode(primer)
		require.NoError(t, err)
		want, wantErr := Decode(sources.NewJSONScanner(), data, []string{"cluster"})
		for range 2 {
			got, err := d.Decode(data)
			if wantErr != nil {
				require.EqualError(t, err, wantErr.Error())
				continue
			}
			require.NoError(t, err)
			require.Equal(t, want, got)
		}
	})
}
