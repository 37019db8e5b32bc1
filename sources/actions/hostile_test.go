package actions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sitroom/model/hostiletest"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/actions"
)

// Escalating a service whose name and comment are hostile text (an
// unmapped service is named by its alerts' labels) delivers, to a generic
// and a PagerDuty webhook, valid UTF-8 JSON that carries the text as data:
// no raw C0 control byte, the PagerDuty summary within its 1024 bytes and
// not cut inside a character.
func TestWebhookPayloadsCarryHostileTextAsData(t *testing.T) {
	var corpus []string
	huge := 0
	for _, s := range hostiletest.Corpus(t) {
		if len(s) > 64<<10 {
			if huge++; huge > 1 {
				continue // one 1 MiB value is enough here, and each costs seconds under -race
			}
		}
		corpus = append(corpus, s)
	}
	var mu sync.Mutex
	var bodies [][]byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer recv.Close()
	c := openCache(t, filepath.Join(t.TempDir(), "c.db"))
	d := actions.New(c, actions.Options{Operator: tier1(),
		Policy: &model.Policy{Levels: []model.EscalationLevel{{Level: 1, Who: "NOC"}, {Level: 2, Who: "owner on-call"}}},
		Webhooks: []actions.Webhook{{Name: "generic", URL: recv.URL},
			{Name: "pd", URL: recv.URL, Format: actions.FormatPagerDuty, RoutingKey: "rk"}}})
	var ids []int64
	for i, s := range corpus {
		comment := corpus[(i+1)%len(corpus)]
		res, err := d.Do(context.Background(), model.ActionRequest{Verb: model.VerbEscalate, Service: s, Level: 2,
			AlertKeys: []string{"k"}, Comment: comment})
		require.NoError(t, err, "string %d", i)
		require.NotEqual(t, model.ActionRefused, res.State, "string %d: %s", i, res.Message)
		ids = append(ids, res.ID)
	}
	for range 20 { // DeliverDue takes a batch at a time
		deliver(t, d)
		mu.Lock()
		n := len(bodies)
		mu.Unlock()
		if n >= 2*len(corpus) {
			break
		}
	}
	for i, id := range ids {
		ds, err := c.Deliveries(id)
		require.NoError(t, err)
		for _, dl := range ds {
			assert.Equal(t, model.ActionDelivered, dl.State, "string %d %q to %s: %s", i, trim(corpus[i]), dl.Dest, dl.Error)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 2*len(corpus), len(bodies), "one body per string per webhook")
	for i, b := range bodies {
		require.True(t, utf8.Valid(b), "body %d is not UTF-8", i)
		require.True(t, json.Valid(b), "body %d is not JSON", i)
		require.Equal(t, -1, bytes.IndexFunc(b, func(r rune) bool { return r < 0x20 }), "body %d holds a raw control byte", i)
		var pd struct {
			Payload struct {
				Summary string `json:"summary"`
			} `json:"payload"`
		}
		require.NoError(t, json.Unmarshal(b, &pd))
		assert.LessOrEqual(t, len(pd.Payload.Summary), 1024)
	}
	// Valid UTF-8 comes back exactly as it was.
	var ev actions.EscalationEvent
	require.NoError(t, json.Unmarshal(bodies[0], &ev))
	if utf8.ValidString(corpus[0]) {
		assert.Equal(t, corpus[0], ev.Service)
	}
}

func trim(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
