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
	for _, name := range payloads {
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
	for _, name := range payloads {
		f.Add(readPayload(f, name))
	}
	f.Add([]byte(`[{"labels":{"a":"\u00e9"},"status":{"state":"suppressed","silencedBy":null}}]`))
	primer := readPayload(f, "alerts-silenced.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder([]string{"replica"})
		_, err := d.Decode(primer)
		require.NoError(t, err)
		want, wantErr := Decode(sources.NewJSONScanner(), data, []string{"replica"})
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
