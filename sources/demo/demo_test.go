package demo

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// fakeClock is a wall clock the test steps.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

const speed = 60

func startDemo(t *testing.T) (*Demo, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	d, err := Start(t.Context(), Options{Speed: speed, Now: clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	return d, clock
}

// at moves the clock to offset (scenario time) into the first cycle.
func at(d *Demo, clock *fakeClock, offset time.Duration) {
	clock.mu.Lock()
	clock.t = d.start.Add(time.Duration(math.Ceil(float64(offset) / speed)))
	clock.mu.Unlock()
}

// The real API shapes, as the dashboard's clients decode them.
type promReply struct {
	Status string `json:"status"`
	Data   struct {
		Alerts []struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
			State       string            `json:"state"`
			ActiveAt    time.Time         `json:"activeAt"`
			Value       string            `json:"value"`
		} `json:"alerts"`
	} `json:"data"`
}

type gettableAlert struct {
	Fingerprint  string            `json:"fingerprint"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL"`
	Receivers    []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	Status struct {
		State       string   `json:"state"`
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

func get(t *testing.T, u string) []byte {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", u, b)
	return b
}

func promAlerts(t *testing.T, d *Demo) promReply {
	var r promReply
	require.NoError(t, json.Unmarshal(get(t, d.PrometheusURL()+"/api/v1/alerts"), &r))
	return r
}

func amAlerts(t *testing.T, base string) []gettableAlert {
	var r []gettableAlert
	require.NoError(t, json.Unmarshal(get(t, base+"/api/v2/alerts"), &r))
	return r
}

// keys lists the keys of every object in a JSON array, checked equal.
func objectKeys(t *testing.T, raw []byte) []string {
	var objs []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &objs))
	require.NotEmpty(t, objs)
	var first []string
	for i, o := range objs {
		var ks []string
		for k := range o {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		if i == 0 {
			first = ks
		}
		assert.Equal(t, first, ks)
	}
	return first
}

func TestShapesMatchTheRealServers(t *testing.T) {
	d, clock := startDemo(t)
	at(d, clock, 140*time.Second) // checkout-failing: pending and firing alerts, a silence
	require.Equal(t, PhaseCheckout, d.Phase())

	// Key sets as Prometheus 2.42 and Alertmanager 0.25 send them.
	var prom struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(get(t, d.PrometheusURL()+"/api/v1/alerts"), &prom))
	assert.Equal(t, "success", prom.Status)
	var data struct {
		Alerts json.RawMessage `json:"alerts"`
	}
	require.NoError(t, json.Unmarshal(prom.Data, &data))
	assert.Equal(t, []string{"activeAt", "annotations", "labels", "state", "value"}, objectKeys(t, data.Alerts))

	raw := get(t, d.AlertmanagerAURL()+"/api/v2/alerts")
	assert.Equal(t, []string{"annotations", "endsAt", "fingerprint", "generatorURL", "labels", "receivers", "startsAt", "status", "updatedAt"}, objectKeys(t, raw))
	var statuses []struct {
		Status map[string]json.RawMessage `json:"status"`
	}
	require.NoError(t, json.Unmarshal(raw, &statuses))
	for _, s := range statuses {
		assert.Len(t, s.Status, 3)
		assert.Contains(t, []string{"[]", `["` + silenceID + `"]`}, string(s.Status["silencedBy"]), "never null")
		assert.Equal(t, "[]", string(s.Status["inhibitedBy"]))
	}

	sil := get(t, d.AlertmanagerAURL()+"/api/v2/silences")
	assert.Equal(t, []string{"comment", "createdBy", "endsAt", "id", "matchers", "startsAt", "status", "updatedAt"}, objectKeys(t, sil))

	// Decoded into the real API shapes, the values make sense.
	pr := promAlerts(t, d)
	states := map[string]string{}
	for _, a := range pr.Data.Alerts {
		states[a.Labels["alertname"]] = a.State
		for _, l := range []string{"severity", "service", "team", "instance"} {
			assert.NotEmpty(t, a.Labels[l], "%s on %s", l, a.Labels["alertname"])
		}
		assert.NotEmpty(t, a.Annotations["summary"])
		assert.Contains(t, a.Annotations["runbook_url"], "https://runbooks.example.com/")
		assert.False(t, a.ActiveAt.IsZero())
		assert.NotEmpty(t, a.Value)
	}
	assert.Equal(t, "firing", states["PostgresConnectionPoolExhausted"])
	assert.Equal(t, "firing", states["PaymentsErrorRateHigh"])
	assert.Equal(t, "pending", states["CheckoutErrorRateHigh"], "checkout has a 15s for: and became active at 130s")

	ams := amAlerts(t, d.AlertmanagerAURL())
	names := map[string]gettableAlert{}
	for _, a := range ams {
		names[a.Labels["alertname"]] = a
		assert.Len(t, a.Fingerprint, 16)
		assert.Equal(t, d.PrometheusURL()+"/graph", a.GeneratorURL[:len(d.PrometheusURL())+6])
		assert.True(t, a.EndsAt.After(a.UpdatedAt))
		assert.False(t, a.StartsAt.After(a.UpdatedAt))
		require.Len(t, a.Receivers, 1)
	}
	assert.NotContains(t, names, "CheckoutErrorRateHigh", "pending alerts never reach the Alertmanager")
	assert.Contains(t, names, "PaymentsErrorRateHigh")
	auth := names["AuthLoginLatencyHigh"]
	assert.Equal(t, "suppressed", auth.Status.State)
	assert.Equal(t, []string{silenceID}, auth.Status.SilencedBy)
	assert.Equal(t, "active", names["PaymentsErrorRateHigh"].Status.State)
	pay := names["PaymentsErrorRateHigh"]
	assert.Equal(t, d.simTime(d.start).Add(105*time.Second).UTC(), pay.StartsAt.UTC(), "startsAt is when it began firing (active 75s + for 30s)")

	// Query filters behave as Alertmanager's do.
	var unsilenced []gettableAlert
	require.NoError(t, json.Unmarshal(get(t, d.AlertmanagerAURL()+"/api/v2/alerts?silenced=false"), &unsilenced))
	assert.Len(t, unsilenced, len(ams)-1)
	var filtered []gettableAlert
	require.NoError(t, json.Unmarshal(get(t, d.AlertmanagerAURL()+"/api/v2/alerts?filter="+url.QueryEscape(`service="payments"`)), &filtered))
	require.Len(t, filtered, 1)
	assert.Equal(t, "PaymentsErrorRateHigh", filtered[0].Labels["alertname"])

	for _, u := range []string{d.PrometheusURL(), d.AlertmanagerAURL(), d.AlertmanagerBURL()} {
		get(t, u+"/-/ready")
		get(t, u+"/-/healthy")
	}
	resp, err := http.Get(d.AlertmanagerAURL() + "/api/v1/alerts")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "Alertmanager API v1 is gone")
}

func TestBothAlertmanagersHoldTheSameAlerts(t *testing.T) {
	d, clock := startDemo(t)
	for _, off := range []time.Duration{0, 70 * time.Second, 200 * time.Second, 260 * time.Second} {
		at(d, clock, off)
		a := get(t, d.AlertmanagerAURL()+"/api/v2/alerts")
		b := get(t, d.AlertmanagerBURL()+"/api/v2/alerts")
		assert.JSONEq(t, string(a), string(b), "at %s", off)
		assert.JSONEq(t, string(get(t, d.AlertmanagerAURL()+"/api/v2/silences")), string(get(t, d.AlertmanagerBURL()+"/api/v2/silences")))
	}
}

// firingCritical lists the services with a firing critical alert in the
// Alertmanager.
func firingCritical(alerts []gettableAlert) map[string]bool {
	out := map[string]bool{}
	for _, a := range alerts {
		if a.Labels["severity"] == "critical" && a.Status.State == "active" {
			out[a.Labels["service"]] = true
		}
	}
	return out
}

func TestCascadeOpensAndResolvesOverACycle(t *testing.T) {
	d, clock := startDemo(t)
	var phases []string
	opened := map[string]time.Duration{} // service → first critical
	closed := map[string]time.Duration{} // service → critical gone again
	sawPending := map[string]bool{}
	fired := map[string]bool{}
	flaps := 0
	edgeWasUp := false
	for off := time.Duration(0); off < Cycle; off += time.Second {
		at(d, clock, off)
		if p := d.Phase(); len(phases) == 0 || phases[len(phases)-1] != p {
			phases = append(phases, p)
		}
		crit := firingCritical(amAlerts(t, d.AlertmanagerBURL()))
		for svc := range crit {
			if _, ok := opened[svc]; !ok {
				opened[svc] = off
			}
		}
		for svc := range opened {
			if _, ok := closed[svc]; !ok && !crit[svc] {
				closed[svc] = off
			}
		}
		edgeUp := false
		for _, a := range promAlerts(t, d).Data.Alerts {
			name := a.Labels["alertname"]
			if a.State == "pending" {
				sawPending[name] = true
			} else {
				fired[name] = true
			}
			if name == "EdgeHighRTT" {
				edgeUp = true
			}
		}
		if edgeUp && !edgeWasUp {
			flaps++
		}
		edgeWasUp = edgeUp
	}

	assert.Equal(t, []string{PhaseCalm, PhaseDBLatency, PhaseDBDown, PhasePayments, PhaseCheckout, PhaseWeb, PhaseRecovering, PhaseRecovered}, phases)
	chain := []string{"db-main", "payments", "checkout", "web"}
	for i, svc := range chain {
		require.Contains(t, opened, svc, "the outage reaches %s", svc)
		require.Contains(t, closed, svc, "%s resolves within the cycle", svc)
		if i > 0 {
			assert.Less(t, opened[chain[i-1]], opened[svc], "%s fails after %s", svc, chain[i-1])
			assert.Less(t, closed[chain[i-1]], closed[svc], "%s recovers after %s", svc, chain[i-1])
		}
	}
	assert.NotContains(t, opened, "search")
	assert.True(t, sawPending["PaymentsErrorRateHigh"] && fired["PaymentsErrorRateHigh"], "payments is pending first, then fires")
	assert.True(t, sawPending["PaymentsQueueBacklog"])
	assert.False(t, fired["PaymentsQueueBacklog"], "a pending alert that never fires")
	assert.GreaterOrEqual(t, flaps, 3, "the edge warning flaps")

	// The next cycle starts calm again and repeats.
	at(d, clock, Cycle)
	assert.Equal(t, PhaseCalm, d.Phase())
	assert.Empty(t, firingCritical(amAlerts(t, d.AlertmanagerAURL())))
	at(d, clock, Cycle+90*time.Second)
	assert.Equal(t, PhasePayments, d.Phase())
	assert.True(t, firingCritical(amAlerts(t, d.AlertmanagerAURL()))["db-main"])
}

func TestPhaseIsAFunctionOfTheClock(t *testing.T) {
	d, _ := startDemo(t)
	base := d.start
	assert.Equal(t, PhaseCalm, d.PhaseAt(base))
	assert.Equal(t, PhaseDBDown, d.PhaseAt(base.Add(65*time.Second/speed)))
	assert.Equal(t, PhaseDBDown, d.PhaseAt(base.Add((Cycle+65*time.Second)/speed)), "cycles repeat")
	assert.Equal(t, PhaseCalm, d.PhaseAt(base.Add(-time.Hour)), "before the start is the start")
}

func TestConfigValidatesAndDescribesTheDemo(t *testing.T) {
	d, _ := startDemo(t)
	c := d.Config()
	require.NoError(t, c.Validate())
	require.Len(t, c.Sources, 5)
	assert.Equal(t, []string{"prom", "am-a", "am-b", "aws-eu", "noc-desk"}, []string{c.Sources[0].Name, c.Sources[1].Name, c.Sources[2].Name, c.Sources[3].Name, c.Sources[4].Name})
	assert.Equal(t, d.AlertmanagerBURL(), c.Sources[2].URL)
	assert.Equal(t, d.CloudWatchURL(), c.Sources[3].Endpoint)
	cat := c.Catalog()
	for _, pair := range [][2]string{{"web", "checkout"}, {"checkout", "payments"}, {"payments", "db-main"}} {
		assert.Equal(t, []string{pair[1]}, cat.Lookup(pair[0]).DependsOn)
	}
	for _, svc := range []string{"search", "auth", "edge"} {
		s := cat.Lookup(svc)
		require.NotNil(t, s)
		assert.Empty(t, s.DependsOn)
		assert.NotEmpty(t, s.Owner)
		assert.NotEmpty(t, s.Contacts)
		assert.NotEmpty(t, s.Runbook)
	}
	// Every alert the scenario raises maps to a catalog service.
	for _, r := range rules {
		name, mapped := cat.ServiceFor(model.LabelsFromMap(r.labels()))
		assert.True(t, mapped, r.name)
		assert.Equal(t, r.service, name)
	}
	assert.Equal(t, model.SevCritical, c.Threshold())
}

func TestCancelStopsTheServers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d, err := Start(ctx, Options{})
	require.NoError(t, err)
	get(t, d.PrometheusURL()+"/-/ready")
	cancel()
	require.Eventually(t, func() bool {
		_, err := http.Get(d.AlertmanagerAURL() + "/-/ready")
		return err != nil
	}, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, d.Close(), "Close after cancel is harmless")
}

func TestSkipStartsPartWayIntoTheCycle(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	d, err := Start(t.Context(), Options{Speed: 1, Now: clock.Now, Skip: 50 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	assert.Equal(t, PhaseDBLatency, d.Phase(), "50s in is the db-main latency warning")
	assert.Equal(t, PhaseDBDown, d.PhaseAt(clock.Now().Add(15*time.Second)))
}

// `sitroom --demo` opens on its first outage: at Opening, db-main's pool
// has just run out (critical, firing in Prometheus and both Alertmanagers,
// started the moment the demo opened), the latency warning before it began
// 30 s earlier, and a second earlier the scenario was still building up.
// From there the cascade unfolds as the timeline has it.
func TestOpeningIsTheFirstOutage(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	d, err := Start(t.Context(), Options{Speed: 1, Now: clock.Now, Skip: Opening})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	start := clock.Now()

	assert.Equal(t, PhaseDBDown, d.Phase(), "the demo opens as db-main goes down")
	assert.Equal(t, PhaseDBLatency, d.PhaseAt(start.Add(-time.Second)), "the outage phase starts at the opening, not before")
	for _, base := range []string{d.AlertmanagerAURL(), d.AlertmanagerBURL()} {
		ams := amAlerts(t, base)
		assert.Equal(t, map[string]bool{"db-main": true}, firingCritical(ams), "the first poll finds db-main's outage")
		for _, a := range ams {
			switch a.Labels["alertname"] {
			case "PostgresConnectionPoolExhausted":
				assert.True(t, a.StartsAt.Equal(start), "fired as the demo opened: %s", a.StartsAt)
			case "PostgresLatencyHigh":
				assert.True(t, a.StartsAt.Equal(start.Add(-30*time.Second)), "the warning that led up to it: %s", a.StartsAt)
			}
		}
	}
	states := map[string]string{}
	for _, a := range promAlerts(t, d).Data.Alerts {
		states[a.Labels["alertname"]] = a.State
		if a.Labels["alertname"] == "PostgresConnectionPoolExhausted" {
			assert.True(t, a.ActiveAt.Equal(start), "active since the opening: %s", a.ActiveAt)
		}
	}
	assert.Equal(t, "firing", states["PostgresConnectionPoolExhausted"])

	// Then the cycle runs on: payments fires 45 s in (active at 75 s of the
	// cycle, for 30 s), checkout 85 s in, web 140 s in; all recovered by
	// 240 s; the next cycle's outage 6 minutes after the first.
	for _, step := range []struct {
		after time.Duration
		phase string
		crit  []string
	}{
		{44 * time.Second, PhasePayments, []string{"db-main"}},
		{45 * time.Second, PhasePayments, []string{"db-main", "payments"}},
		{85 * time.Second, PhaseCheckout, []string{"db-main", "payments", "checkout"}},
		{140 * time.Second, PhaseWeb, []string{"db-main", "payments", "checkout", "web"}},
		{240 * time.Second, PhaseRecovered, nil},
		{Cycle - time.Second, PhaseDBLatency, nil},
		{Cycle, PhaseDBDown, []string{"db-main"}},
	} {
		clock.mu.Lock()
		clock.t = start.Add(step.after)
		clock.mu.Unlock()
		assert.Equal(t, step.phase, d.Phase(), "%v after the opening", step.after)
		want := map[string]bool{}
		for _, s := range step.crit {
			want[s] = true
		}
		assert.Equal(t, want, firingCritical(amAlerts(t, d.AlertmanagerAURL())), "%v after the opening", step.after)
	}
}
