package demo

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/cloudwatch"
)

// The demo's CloudWatch source, read by the real client over the SDK's
// default protocol, follows the cascade: the RDS CPU alarm on db-main is
// in ALARM while db-main is down, maps to db-main and is critical; nothing
// shows while calm.
func TestCloudWatchAlarmsFollowTheCascade(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	d, clock := startDemo(t)
	c := d.Config()
	require.NoError(t, c.Validate())
	src, err := cloudwatch.New(c.Sources[3], cloudwatch.Options{})
	require.NoError(t, err)
	cat := c.Catalog()

	at(d, clock, 10*time.Second)
	require.Equal(t, PhaseCalm, d.Phase())
	alerts, err := src.Fetch(t.Context())
	require.NoError(t, err)
	assert.Empty(t, alerts, "calm: every alarm OK")

	at(d, clock, 100*time.Second)
	require.Equal(t, PhasePayments, d.Phase())
	alerts, err = src.Fetch(t.Context())
	require.NoError(t, err)
	got := map[string]model.Alert{}
	for _, a := range alerts {
		got[a.Labels.Get("alarm_name")] = a
	}
	require.Len(t, got, 2)
	db := got["db-main-cpu-high"]
	svc, mapped := cat.ServiceFor(db.Labels)
	assert.True(t, mapped)
	assert.Equal(t, "db-main", svc)
	assert.Equal(t, "critical", db.Labels.Get("severity"))
	assert.Equal(t, "123456789012", db.Labels.Get("account"))
	assert.Equal(t, d.simTime(clock.Now()).Add(-35*time.Second).Truncate(time.Second), db.StartsAt.Time().Truncate(time.Second),
		"in ALARM since 65s into the cycle")
	pay := got["payments-alb-5xx"]
	svc, _ = cat.ServiceFor(pay.Labels)
	assert.Equal(t, "payments", svc)
	assert.Equal(t, "warning", pay.Labels.Get("severity"))

	id, err := src.Identity(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::123456789012:user/sitroom-demo", id.ARN)

	at(d, clock, 300*time.Second)
	alerts, err = src.Fetch(t.Context())
	require.NoError(t, err)
	assert.Empty(t, alerts, "recovered")
}
