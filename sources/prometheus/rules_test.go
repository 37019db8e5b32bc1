package prometheus

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"sitroom/model"
)

// A server that had not loaded its rules when they were first read: the
// first firing alert of a rule not known yet has them read again at once
// (at most every 10s), so its start is activeAt plus its for from the
// poll it first fires in; a rule that stays unknown is read for ever less
// often.
func TestRulesReadAgainForAnUnknownFiringRule(t *testing.T) {
	var loaded atomic.Bool
	var reads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reads.Add(1)
		rules := ""
		if loaded.Load() {
			rules = `{"name":"SlowBurn","type":"alerting","duration":20,"labels":{"severity":"critical"}}`
		}
		fmt.Fprintf(w, `{"status":"success","data":{"groups":[{"name":"g","rules":[%s]}]}}`, rules)
	}))
	defer srv.Close()
	r := newRules(srv.URL, nil)
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	activeAt := t0.Add(-time.Minute)
	firing := func() []model.Alert {
		return []model.Alert{{Labels: model.LabelsFromMap(map[string]string{"alertname": "SlowBurn", "severity": "critical"}), State: model.StateFiring, StartsAt: model.StampOf(activeAt)}}
	}

	r.startFiring(t.Context(), nil, t0) // the first read: no rules loaded yet
	assert.EqualValues(t, 1, reads.Load())
	loaded.Store(true)
	a := firing()
	r.startFiring(t.Context(), a, t0.Add(5*time.Second))
	assert.Equal(t, activeAt, a[0].StartsAt.Time(), "within 10s of the last read: not read again")
	assert.EqualValues(t, 1, reads.Load())
	a = firing()
	r.startFiring(t.Context(), a, t0.Add(20*time.Second))
	assert.EqualValues(t, 2, reads.Load(), "an unknown firing rule has the rules read again")
	assert.Equal(t, activeAt.Add(20*time.Second), a[0].StartsAt.Time(), "fired for: 20s after it began pending")

	// A rule that stays unknown: read again 10s after the first read, then
	// 10s, 20s and 40s later.
	loaded.Store(false)
	r2 := newRules(srv.URL, nil)
	reads.Store(0)
	at := func(sec int) { r2.startFiring(t.Context(), firing(), t0.Add(time.Duration(sec)*time.Second)) }
	for _, sec := range []int{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110} {
		at(sec)
	}
	// Reads at 0 (due), 10, 20, 40 and 80.
	assert.EqualValues(t, 5, reads.Load())
}
