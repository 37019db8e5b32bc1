package alertmanager

import (
	stdjson "encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
)

var payloads = []string{"alerts.json", "alerts-silenced.json", "alerts-inhibited.json"}

func readPayload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "alertmanager", name))
	require.NoError(t, err)
	return b
}

// The key computed for each alert is the Alertmanager's own fingerprint of
// its labels, so silences and inhibitions (which name fingerprints) can be
// related to rows.
func TestDecodeCapturedPayloadsKeyIsFingerprint(t *testing.T) {
	for _, name := range payloads {
		data := readPayload(t, name)
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
	assert.Equal(t, 500_000_000, alerts[0].StartsAt.Nanosecond())
	assert.Nil(t, alerts[0].SilencedBy)
	assert.Equal(t, model.StateFiring, alerts[1].State, "unprocessed alerts are new, not yet routed: firing")
	c := alerts[2]
	assert.Equal(t, model.StateSuppressed, c.State)
	assert.Equal(t, []string{"s1", "s2"}, c.SilencedBy)
	assert.Equal(t, []string{"f1"}, c.InhibitedBy)
	assert.Equal(t, map[string]string{"alertname": "C", "cluster": "eu"}, c.Labels)
	assert.Equal(t, model.LabelsKey(map[string]string{"alertname": "C"}, nil), c.Key, "ignored labels are left out of the key")
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]struct {
		in   string
		kind sources.FetchErrorKind
		msg  string
	}{
		"object":    {`{"code":400,"message":"bad"}`, sources.KindMalformed, "malformed reply: expected a JSON array of alerts, found an object (is this an Alertmanager v2 API?)"},
		"empty":     {``, sources.KindMalformed, "malformed reply: empty body"},
		"truncated": {`[{"labels":{"alertname":"A"},"status":{"state":"act`, sources.KindTruncated, "truncated reply"},
		"wrong":     {`[{"status":{"silencedBy":"x"}}]`, sources.KindMalformed, `malformed reply: status.silencedBy: expected '[', found string at byte 25`},
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

func FuzzDecodeAlertmanager(f *testing.F) {
	for _, name := range payloads {
		f.Add(readPayload(f, name))
	}
	f.Add([]byte(`[{"labels":{"a":"\u00e9"},"status":{"state":"suppressed","silencedBy":null}}]`))
	sc := sources.NewJSONScanner()
	valid := []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}
	f.Fuzz(func(t *testing.T, data []byte) {
		alerts, err := Decode(sc, data, []string{"replica"})
		if err != nil {
			var fe *sources.FetchError
			if assert.ErrorAs(t, err, &fe) {
				assert.NotEmpty(t, fe.Msg)
				assert.NotContains(t, fe.Msg, "\n")
			}
			return
		}
		assert.True(t, jsontext.Value(data).IsValid(valid...), "accepted invalid JSON %q", data)
		for _, a := range alerts {
			assert.Contains(t, []model.State{model.StateFiring, model.StateSuppressed}, a.State)
			assert.NotNil(t, a.Labels)
			assert.Equal(t, model.LabelsKey(a.Labels, []string{"replica"}), a.Key)
			for _, s := range append(append([]string{a.GeneratorURL}, a.SilencedBy...), a.InhibitedBy...) {
				assert.Equal(t, strings.ToValidUTF8(s, ""), s)
			}
		}
	})
}
