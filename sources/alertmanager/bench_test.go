package alertmanager

import (
	"context"
	stdjson "encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"sitroom/sources"
)

// synthPayload builds an /api/v2/alerts reply shaped like Alertmanager's:
// 8–12 labels, 2–3 annotations, receivers, fingerprint, status.
func synthPayload(n int) []byte {
	type status struct {
		State       string   `json:"state"`
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	}
	type receiver struct {
		Name string `json:"name"`
	}
	type alert struct {
		Annotations  map[string]string `json:"annotations"`
		EndsAt       string            `json:"endsAt"`
		Fingerprint  string            `json:"fingerprint"`
		Receivers    []receiver        `json:"receivers"`
		StartsAt     string            `json:"startsAt"`
		Status       status            `json:"status"`
		UpdatedAt    string            `json:"updatedAt"`
		GeneratorURL string            `json:"generatorURL"`
		Labels       map[string]string `json:"labels"`
	}
	sev := []string{"critical", "warning", "info"}
	base := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	alerts := make([]alert, n)
	for i := range alerts {
		l := map[string]string{
			"alertname": fmt.Sprintf("Alert%02d", i%50),
			"severity":  sev[i%3],
			"service":   fmt.Sprintf("svc-%02d", i%40),
			"instance":  fmt.Sprintf("10.%d.%d.%d:9100", i/65536%256, i/256%256, i%256),
			"job":       fmt.Sprintf("job-%02d", i%20),
			"namespace": fmt.Sprintf("ns-%d", i%10),
			"pod":       fmt.Sprintf("pod-%06d-abcde", i),
			"cluster":   fmt.Sprintf("eu-%d", i%3),
		}
		for k := 0; k < i%5; k++ {
			l[fmt.Sprintf("extra_%d", k)] = fmt.Sprintf("value-%d", (i+k)%7)
		}
		a := map[string]string{
			"summary":     fmt.Sprintf("Instance %s of svc-%02d is failing", l["instance"], i%40),
			"runbook_url": fmt.Sprintf("https://runbooks.example.com/alert%02d", i%50),
		}
		if i%2 == 0 {
			a["description"] = "Error rate above 5% for the last 5 minutes on this instance; check the upstream dependencies."
		}
		st := status{State: "active", SilencedBy: []string{}, InhibitedBy: []string{}}
		if i%11 == 0 {
			st = status{State: "suppressed", SilencedBy: []string{"9c22f645-8a7e-4e3a-9f0d-2b1c3d4e5f60"}, InhibitedBy: []string{}}
		}
		start := base.Add(time.Duration(i) * time.Second)
		alerts[i] = alert{
			Annotations:  a,
			EndsAt:       start.Add(4 * time.Hour).Format(time.RFC3339Nano),
			Fingerprint:  fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15),
			Receivers:    []receiver{{Name: "null"}},
			StartsAt:     start.Format(time.RFC3339Nano),
			Status:       st,
			UpdatedAt:    start.Add(time.Minute).Format(time.RFC3339Nano),
			GeneratorURL: fmt.Sprintf("http://prometheus.example.com:9090/graph?g0.expr=up%%7Bjob%%3D%%22job-%02d%%22%%7D+%%3D%%3D+0&g0.tab=1", i%20),
			Labels:       l,
		}
	}
	b, err := stdjson.Marshal(alerts)
	if err != nil {
		panic(err)
	}
	return b
}

func benchDecode(b *testing.B, n int) {
	payload := synthPayload(n)
	sc := sources.NewJSONScanner()
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		alerts, err := Decode(sc, payload, nil)
		if err != nil || len(alerts) != n {
			b.Fatalf("got %d alerts, err %v", len(alerts), err)
		}
	}
}

func BenchmarkDecode10k(b *testing.B) { benchDecode(b, 10_000) }
func BenchmarkDecode50k(b *testing.B) { benchDecode(b, 50_000) }

// BenchmarkDecodeStdlib10k is the encoding/json baseline for comparison.
func BenchmarkDecodeStdlib10k(b *testing.B) {
	payload := synthPayload(10_000)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		var v []struct {
			Labels       map[string]string `json:"labels"`
			Annotations  map[string]string `json:"annotations"`
			StartsAt     time.Time         `json:"startsAt"`
			GeneratorURL string            `json:"generatorURL"`
			Status       struct {
				State       string   `json:"state"`
				SilencedBy  []string `json:"silencedBy"`
				InhibitedBy []string `json:"inhibitedBy"`
			} `json:"status"`
		}
		if err := stdjson.Unmarshal(payload, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func benchFetch(b *testing.B, n int) {
	payload := synthPayload(n)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(payload)
	}))
	defer srv.Close()
	src := New("bench", srv.URL, srv.Client(), nil)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		alerts, err := src.Fetch(context.Background())
		if err != nil || len(alerts) != n {
			b.Fatalf("got %d alerts, err %v", len(alerts), err)
		}
	}
}

func BenchmarkFetch10k(b *testing.B) { benchFetch(b, 10_000) }
func BenchmarkFetch50k(b *testing.B) { benchFetch(b, 50_000) }
