package demo

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/sources/alertmanager"
)

func stateOf(t *testing.T, base, alertname string) (string, []string) {
	for _, a := range amAlerts(t, base) {
		if a.Labels["alertname"] == alertname {
			return a.Status.State, a.Status.SilencedBy
		}
	}
	t.Fatalf("%s not held by %s", alertname, base)
	return "", nil
}

// A silence created through one demo Alertmanager (as sitroom's ack does)
// silences the matching alert on both members of the pair, lists as active,
// and expiring it makes the alert active again.
func TestSilencesThroughTheAPI(t *testing.T) {
	d, clock := startDemo(t)
	at(d, clock, 65*time.Second) // db-main connection pool exhausted
	ctx := context.Background()
	now := clock.Now()
	sil := alertmanager.NewSilencer(d.AlertmanagerAURL(), nil)
	id, err := sil.Create(ctx, alertmanager.PostableSilence{
		Matchers: []alertmanager.SilenceMatcher{{Name: "alertname", Value: "PostgresConnectionPoolExhausted", IsEqual: true}, {Name: "service", Value: "db-main", IsEqual: true}},
		StartsAt: now, EndsAt: now.Add(2 * time.Hour), CreatedBy: "alice", Comment: "on it",
	})
	require.NoError(t, err)
	for _, base := range []string{d.AlertmanagerAURL(), d.AlertmanagerBURL()} {
		state, by := stateOf(t, base, "PostgresConnectionPoolExhausted")
		assert.Equal(t, "suppressed", state, base)
		assert.Equal(t, []string{id}, by, base)
		state, _ = stateOf(t, base, "PostgresLatencyHigh")
		assert.Equal(t, "active", state, "other alerts stay active")
	}
	list, err := alertmanager.NewSilencer(d.AlertmanagerBURL(), nil).List(ctx)
	require.NoError(t, err)
	var found bool
	for _, s := range list {
		if s.ID == id {
			found = true
			assert.Equal(t, "active", s.Status.State)
			assert.Equal(t, "alice", s.CreatedBy)
		}
	}
	assert.True(t, found, "the pair lists the new silence")

	require.NoError(t, sil.Expire(ctx, id))
	state, _ := stateOf(t, d.AlertmanagerBURL(), "PostgresConnectionPoolExhausted")
	assert.Equal(t, "active", state)

	_, err = sil.Create(ctx, alertmanager.PostableSilence{StartsAt: now, EndsAt: now.Add(time.Hour), CreatedBy: "alice", Comment: "x"})
	require.Error(t, err, "a silence without matchers is refused, as Alertmanager does")
	assert.Contains(t, err.Error(), "at least one matcher")
}
