package alertmanager

import (
	stdjson "encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"sitroom/sources/sourcetest"
)

// synthPayload builds an /api/v2/alerts reply shaped like Alertmanager's:
// 8–12 labels, 2–3 annotations (sourcetest.Synth), receivers,
// fingerprint, status.
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
	alerts := make([]alert, n)
	for i := range alerts {
		s := sourcetest.Synth(i)
		st := status{State: "active", SilencedBy: []string{}, InhibitedBy: []string{}}
		if i%11 == 0 {
			st = status{State: "suppressed", SilencedBy: []string{"9c22f645-8a7e-4e3a-9f0d-2b1c3d4e5f60"}, InhibitedBy: []string{}}
		}
		alerts[i] = alert{
			Annotations:  s.Annotations,
			EndsAt:       s.StartsAt.Add(4 * time.Hour).Format(time.RFC3339Nano),
			Fingerprint:  fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15),
			Receivers:    []receiver{{Name: "null"}},
			StartsAt:     s.StartsAt.Format(time.RFC3339Nano),
			Status:       st,
			UpdatedAt:    s.StartsAt.Add(time.Minute).Format(time.RFC3339Nano),
			GeneratorURL: fmt.Sprintf("http://prometheus.example.com:9090/graph?g0.expr=up%%7Bjob%%3D%%22job-%02d%%22%%7D+%%3D%%3D+0&g0.tab=1", i%20),
			Labels:       s.Labels,
		}
	}
	b, err := stdjson.Marshal(alerts)
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
	sourcetest.BenchUnmarshal[[]struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Status       struct {
			State       string   `json:"state"`
			SilencedBy  []string `json:"silencedBy"`
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}](b, synthPayload(10_000))
}

func benchFetch(b *testing.B, n int) {
	sourcetest.BenchFetch(b, synthPayload(n), n, func(url string, client *http.Client) sourcetest.Fetcher {
		return New("bench", url, client, nil)
	})
}

func BenchmarkFetch10k(b *testing.B) { benchFetch(b, 10_000) }
func BenchmarkFetch50k(b *testing.B) { benchFetch(b, 50_000) }
