package prometheus

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/sourcetest"
)

// configReply is a /api/v1/status/config reply carrying yaml.
func configReply(yaml string) string {
	return fmt.Sprintf(`{"status":"success","data":{"yaml":%s}}`, strconv.Quote(yaml))
}

// The config a real Prometheus 2.42 serves (captured with
// -update-payloads): its external labels and alert_relabel_configs are
// read, every default it writes out understood.
func TestParseCapturedConfig(t *testing.T) {
	var reply struct {
		Data struct {
			YAML string `json:"yaml"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(sourcetest.ReadPayload(t, "prometheus", "config.json"), &reply))
	ext, info, err := parseConfig(reply.Data.YAML)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"cluster": "eu1", "replica": "r1", "service": "never-wins"}, info.Labels)
	assert.Equal(t, 6, info.Relabel)
	assert.Empty(t, info.Warnings)
	require.NotNil(t, ext)
}

// External labels as Prometheus adds them before sending: only where the
// alert lacks the label, then alert_relabel_configs in order.
func TestExternalLabelsThenRelabel(t *testing.T) {
	cases := []struct {
		name    string
		yaml    string
		in, out map[string]string
	}{
		{"an alert's own label wins",
			"global: {external_labels: {cluster: eu1, replica: r1}}",
			map[string]string{"alertname": "A", "cluster": "us2"},
			map[string]string{"alertname": "A", "cluster": "us2", "replica": "r1"}},
		{"labeldrop after the external labels",
			"global: {external_labels: {cluster: eu1, replica: r1}}\nalerting: {alert_relabel_configs: [{action: labeldrop, regex: replica}]}",
			map[string]string{"alertname": "A"},
			map[string]string{"alertname": "A", "cluster": "eu1"}},
		{"labelkeep",
			"alerting: {alert_relabel_configs: [{action: labelkeep, regex: 'alertname|sev.*'}]}",
			map[string]string{"alertname": "A", "severity": "critical", "pod": "x"},
			map[string]string{"alertname": "A", "severity": "critical"}},
		// As the server writes its config: every default out, an empty
		// replacement left out.
		{"replace; no replacement removes the target; a bad target does nothing",
			"alerting: {alert_relabel_configs: [{source_labels: [severity], separator: ;, regex: (.*), target_label: sev, replacement: $1, action: replace}, {source_labels: [pod], separator: ;, regex: '(x)', target_label: pod, action: replace}, {source_labels: [severity], separator: ;, regex: (.*), target_label: '${1}-bad', replacement: $1, action: replace}]}",
			map[string]string{"alertname": "A", "severity": "critical", "pod": "x"},
			map[string]string{"alertname": "A", "severity": "critical", "sev": "critical"}},
		{"no match: no replacement",
			"alerting: {alert_relabel_configs: [{source_labels: [alertname, severity], separator: '/', regex: 'B/(.*)', target_label: team, replacement: 'team-$1'}]}",
			map[string]string{"alertname": "A", "severity": "critical"},
			map[string]string{"alertname": "A", "severity": "critical"}},
		{"labelmap, lowercase, hashmod; keep and drop change no label",
			"alerting: {alert_relabel_configs: [{action: labelmap, regex: 'k8s_(.*)', replacement: '$1'}, {action: lowercase, source_labels: [alertname], target_label: lower}, {action: hashmod, source_labels: [alertname], modulus: 8, target_label: shard}, {action: drop, source_labels: [alertname], regex: A}]}",
			map[string]string{"alertname": "A", "k8s_ns": "web"},
			map[string]string{"alertname": "A", "k8s_ns": "web", "ns": "web", "lower": "a", "shard": "1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ext, info, err := parseConfig(c.yaml)
			require.NoError(t, err)
			assert.Empty(t, info.Warnings)
			m := map[string]string{}
			for k, v := range c.in {
				m[k] = v
			}
			ext.apply(m)
			assert.Equal(t, c.out, m)
		})
	}
}

// What cannot be applied is said, the rest applied.
func TestRelabelNotAppliedIsWarned(t *testing.T) {
	ext, info, err := parseConfig(`
global: {external_labels: {replica: r1}}
alerting:
  alert_relabel_configs:
    - {action: frobnicate}
    - {action: labeldrop, regex: '(?!replica).*'}
    - {action: labeldrop, regex: replica}
  alertmanagers:
    - {alert_relabel_configs: [{action: labeldrop, regex: cluster}]}
`)
	require.NoError(t, err)
	assert.Equal(t, 1, info.Relabel)
	require.Len(t, info.Warnings, 3)
	assert.Equal(t, `alert_relabel_configs[0]: action "frobnicate" is not applied`, info.Warnings[0])
	assert.Contains(t, info.Warnings[1], `alert_relabel_configs[1]: regex "(?!replica).*" is not applied`)
	assert.Equal(t, "alertmanagers[0].alert_relabel_configs are not applied", info.Warnings[2])
	m := map[string]string{"alertname": "A"}
	ext.apply(m)
	assert.Equal(t, map[string]string{"alertname": "A"}, m, "the external label, then the labeldrop that could be applied")
}

// fakeProm serves alerts, no rules and a config the test sets, counting
// the config reads.
type fakeProm struct {
	*httptest.Server
	mu          sync.Mutex
	alerts      string
	config      string // the reply; "" answers with configStatus
	status      int
	loaded      string // runtimeinfo's lastConfigTime; "" for none
	configReads atomic.Int64
}

func newFakeProm(t *testing.T) *fakeProm {
	f := &fakeProm{status: http.StatusOK}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch r.URL.Path {
		case AlertsPath:
			fmt.Fprint(w, f.alerts)
		case StatusPath:
			fmt.Fprintf(w, `{"status":"success","data":{"reloadConfigSuccess":true,"lastConfigTime":%q}}`, f.loaded)
		case ConfigPath:
			f.configReads.Add(1)
			w.WriteHeader(f.status)
			fmt.Fprint(w, f.config)
		default:
			fmt.Fprint(w, `{"status":"success","data":{"groups":[]}}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeProm) set(alerts, config string, status int) {
	f.mu.Lock()
	f.alerts, f.config, f.status = alerts, config, status
	f.mu.Unlock()
}

const twoAlerts = `{"status":"success","data":{"alerts":[
 {"labels":{"alertname":"A","severity":"critical"},"annotations":{},"state":"firing","activeAt":"2026-11-26T10:00:00Z","value":"1"},
 {"labels":{"alertname":"B","replica":"own"},"annotations":{},"state":"pending","activeAt":"2026-11-26T10:01:00Z","value":"1"}]}}`

// labelsOf maps each alert's name to its labels, checking its key is
// made from them (less ignore).
func labelsOf(t *testing.T, alerts []model.Alert, ignore []string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, a := range alerts {
		assert.Equal(t, model.LabelsKey(a.Labels, ignore), a.Key, a.Name())
		out[a.Name()] = a.Labels.Map()
	}
	return out
}

// A source learns its server's external labels before its first poll and
// keys alerts with them; when the config changes they change once, also
// for the alerts whose bytes did not change; unchanged polls give the
// same alerts.
func TestSourceLearnsExternalLabels(t *testing.T) {
	f := newFakeProm(t)
	f.set(twoAlerts, configReply("global:\n  external_labels:\n    cluster: eu1\n    replica: r1\n"), http.StatusOK)
	src := New("p", f.URL, nil, []string{"cluster"})

	for poll := range 2 {
		alerts, err := sourcetest.Fetch(t, src)
		require.NoError(t, err)
		assert.Equal(t, map[string]map[string]string{
			"A": {"alertname": "A", "severity": "critical", "cluster": "eu1", "replica": "r1"},
			"B": {"alertname": "B", "replica": "own", "cluster": "eu1"},
		}, labelsOf(t, alerts, []string{"cluster"}), "poll %d", poll)
	}
	assert.EqualValues(t, 1, f.configReads.Load(), "read once, not every poll")
	assert.Equal(t, External{Labels: map[string]string{"cluster": "eu1", "replica": "r1"}}, src.External())

	// The config is reloaded with another replica; the source reads it
	// again after ConfigEvery.
	f.set(twoAlerts, configReply("global:\n  external_labels:\n    cluster: eu1\n    replica: r2\n"), http.StatusOK)
	src.ext.refresh(t.Context(), time.Now().Add(ConfigEvery-time.Second))
	assert.EqualValues(t, 1, f.configReads.Load(), "not due yet")
	src.ext.refresh(t.Context(), time.Now().Add(ConfigEvery+time.Second))
	assert.EqualValues(t, 2, f.configReads.Load())
	for poll := range 3 {
		alerts, err := sourcetest.Fetch(t, src)
		require.NoError(t, err)
		assert.Equal(t, "r2", labelsOf(t, alerts, []string{"cluster"})["A"]["replica"], "poll %d after the change", poll)
	}

	// A reply that fails right after a change keeps the old alerts out of
	// reuse until a decode succeeds.
	f.set(twoAlerts, configReply("global:\n  external_labels:\n    replica: r3\n"), http.StatusOK)
	src.ext.refresh(t.Context(), time.Now().Add(3*ConfigEvery))
	f.set(`{"status":"success","data":{"alerts":[{"labels":`, "", http.StatusOK)
	_, err := sourcetest.Fetch(t, src)
	require.Error(t, err)
	f.set(twoAlerts, "", http.StatusOK)
	alerts, err := sourcetest.Fetch(t, src)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"alertname": "A", "severity": "critical", "replica": "r3"}, labelsOf(t, alerts, []string{"cluster"})["A"])
}

// A server without the config endpoint (Thanos Ruler, vmalert: 404) or
// behind a proxy refusing it (401, 403): alerts as it lists them, the
// reason told, and the config asked again only after ConfigEvery.
func TestSourceWithoutConfig(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFakeProm(t)
			f.set(twoAlerts, "", status)
			src := New("p", f.URL, nil, nil)
			for range 3 {
				alerts, err := sourcetest.Fetch(t, src)
				require.NoError(t, err)
				assert.Equal(t, map[string]string{"alertname": "A", "severity": "critical"}, labelsOf(t, alerts, nil)["A"])
			}
			assert.EqualValues(t, 1, f.configReads.Load())
			x := src.External()
			assert.Nil(t, x.Labels)
			want := "refused"
			if status == http.StatusNotFound {
				want = "not served"
			}
			assert.Equal(t, fmt.Sprintf("%s %s (HTTP %d)", ConfigPath, want, status), x.Unknown)
			assert.Equal(t, status, x.Status)
		})
	}
}

// A server that cannot be read for its config is asked again soon, and
// its alerts are shown meanwhile.
func TestSourceConfigUnreadable(t *testing.T) {
	f := newFakeProm(t)
	f.set(twoAlerts, "oops", http.StatusInternalServerError)
	src := New("p", f.URL, nil, nil)
	_, err := sourcetest.Fetch(t, src)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(src.External().Unknown, ConfigPath+" could not be read: HTTP 500"), src.External().Unknown)
	f.set(twoAlerts, configReply("global: {external_labels: {replica: r1}}"), http.StatusOK)
	src.ext.refresh(t.Context(), time.Now().Add(minRetry))
	alerts, err := sourcetest.Fetch(t, src)
	require.NoError(t, err)
	assert.Equal(t, "r1", labelsOf(t, alerts, nil)["A"]["replica"])
	assert.Empty(t, src.External().Unknown)
}

// Whatever the replies and the changes of the config between them, the
// source's decode (reusing alerts whose bytes did not change) gives what
// a decode without reuse gives with the config of the moment.
func TestLearnedDecodeAcrossPollsEqualsDecode(t *testing.T) {
	base := twoAlerts
	configs := []string{
		"global: {external_labels: {replica: r1}}",
		"global: {external_labels: {replica: r2, cluster: eu1}}",
		"alerting: {alert_relabel_configs: [{action: labeldrop, regex: replica}]}",
		"",
	}
	polls := []struct {
		reply  string
		config int // index in configs, -1: unchanged
	}{
		{base, 0}, {base, -1}, {base, 1}, {base, -1},
		{strings.Replace(base, `"severity":"critical"`, `"severity":"warning"`, 1), -1},
		{base, 2}, {`{"status":"success","data":{"alerts":[{"labels":`, 3}, {base, -1}, {base, 0}, {base, -1},
	}
	l := newLearner("http://unused", nil)
	ignore := []string{"cluster"}
	dec := sources.NewMemoDecoder(ignore, l.decode)
	for i, p := range polls {
		if p.config >= 0 {
			ext, info, err := parseConfig(configs[p.config])
			require.NoError(t, err)
			l.mu.Lock()
			l.learn(ext, info)
			l.mu.Unlock()
		}
		want, wantErr := decodeWith(sources.NewJSONScanner(), nil, []byte(p.reply), ignore, l.ext)
		got, err := dec.Decode([]byte(p.reply))
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error(), "poll %d", i)
			continue
		}
		require.NoError(t, err, "poll %d", i)
		require.Equal(t, want, got, "poll %d", i)
	}
}

// A config reloaded on the server (runtimeinfo's lastConfigTime moves,
// read with its health every 30 s) is read again at the next poll, not
// within ConfigEvery; a health read that sees the same load asks nothing.
func TestReloadedConfigIsReadAtTheNextPoll(t *testing.T) {
	f := newFakeProm(t)
	f.set(twoAlerts, configReply("global:\n  external_labels:\n    replica: r1\n"), http.StatusOK)
	f.mu.Lock()
	f.loaded = "2026-11-26T09:00:00Z"
	f.mu.Unlock()
	src := New("p", f.URL, nil, nil)
	_, err := sourcetest.Fetch(t, src)
	require.NoError(t, err)
	_, err = src.Health(t.Context())
	require.NoError(t, err)
	_, err = sourcetest.Fetch(t, src)
	require.NoError(t, err)
	assert.EqualValues(t, 1, f.configReads.Load(), "the same load: not read again")

	f.set(twoAlerts, configReply("global:\n  external_labels:\n    replica: r2\n"), http.StatusOK)
	f.mu.Lock()
	f.loaded = "2026-11-26T10:05:00Z"
	f.mu.Unlock()
	_, err = src.Health(t.Context())
	require.NoError(t, err)
	alerts, err := sourcetest.Fetch(t, src)
	require.NoError(t, err)
	assert.EqualValues(t, 2, f.configReads.Load(), "a reloaded config is read at the next poll")
	assert.Equal(t, "r2", labelsOf(t, alerts, nil)["A"]["replica"])
}
