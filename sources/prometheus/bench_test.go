package prometheus

import (
	stdjson "encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"sitroom/sources/sourcetest"
)

// synthPayload builds an /api/v1/alerts reply shaped like a real one: 8–12
// labels and 2–3 annotations per alert (sourcetest.Synth), mixed firing
// and pending.
func synthPayload(n int) []byte {
	type alert struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		State       string            `json:"state"`
		ActiveAt    string            `json:"activeAt"`
		Value       string            `json:"value"`
	}
	alerts := make([]alert, n)
	for i := range alerts {
		s := sourcetest.Synth(i)
		st := "firing"
		if i%7 == 0 {
			st = "pending"
		}
		alerts[i] = alert{s.Labels, s.Annotations, st, s.StartsAt.Format(time.RFC3339Nano), "1e+00"}
	}
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []alert `json:"alerts"`
		} `json:"data"`
	}
	body.Status = "success"
	body.Data.Alerts = alerts
	b, err := stdjson.Marshal(body)
	if err != nil {
		panic(err)
	}
	return b
}

func benchDecode(b *testing.B, n int) { sourcetest.BenchDecode(b, synthPayload(n), n, Decode) }

func BenchmarkDecode10k(b *testing.B) { benchDecode(b, 10_000) }
func BenchmarkDecode50k(b *testing.B) { benchDecode(b, 50_000) }

// BenchmarkDecodeStdlib10k is the encoding/json baseline for comparison.
func BenchmarkDecodeStdlib10k(b *testing.B) {
	sourcetest.BenchUnmarshal[struct {
		Data struct {
			Alerts []struct {
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
				State       string            `json:"state"`
				ActiveAt    time.Time         `json:"activeAt"`
			} `json:"alerts"`
		} `json:"data"`
	}](b, synthPayload(10_000))
}

func benchFetch(b *testing.B, n int) {
	sourcetest.BenchFetch(b, synthPayload(n), n, func(url string, client *http.Client) sourcetest.Fetcher {
		return New("bench", url, client, nil)
	})
}

func BenchmarkFetch10k(b *testing.B) { benchFetch(b, 10_000) }
func BenchmarkFetch50k(b *testing.B) { benchFetch(b, 50_000) }

// BenchmarkFetch10kExternalLabels polls a server whose config has
// external labels and an alert_relabel_config: the steady-state poll
// reuses the labelled alerts, so it costs what BenchmarkFetch10k does.
func BenchmarkFetch10kExternalLabels(b *testing.B) {
	payload := synthPayload(10_000)
	config := configReply("global:\n  external_labels: {region: eu1, replica: r1}\n" +
		"alerting:\n  alert_relabel_configs:\n  - {action: labeldrop, regex: replica, separator: ;}\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == ConfigPath {
			_, _ = w.Write([]byte(config))
			return
		}
		_, _ = w.Write(payload)
	}))
	b.Cleanup(srv.Close)
	sourcetest.BenchFetch(b, payload, 10_000, func(string, *http.Client) sourcetest.Fetcher {
		src := New("bench", srv.URL, srv.Client(), nil)
		if alerts, err := src.Fetch(b.Context()); err != nil || alerts[0].Labels.Get("region") != "eu1" {
			b.Fatalf("not labelled: %v", err)
		}
		return src
	})
}
