package prometheus

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

// synthPayload builds an /api/v1/alerts reply shaped like a real one: 8–12
// labels and 2–3 annotations per alert, mixed firing and pending.
func synthPayload(n int) []byte {
	type alert struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		State       string            `json:"state"`
		ActiveAt    string            `json:"activeAt"`
		Value       string            `json:"value"`
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
		st := "firing"
		if i%7 == 0 {
			st = "pending"
		}
		alerts[i] = alert{l, a, st, base.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano), "1e+00"}
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
		var v struct {
			Data struct {
				Alerts []struct {
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
					State       string            `json:"state"`
					ActiveAt    time.Time         `json:"activeAt"`
				} `json:"alerts"`
			} `json:"data"`
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
