package runtime_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// Acking a CloudWatch-backed outage works like any other: a local ack,
// audited and shared through the cache; sitroom never writes to AWS.
func TestAckCloudWatchOutageIsLocalAndNeverWritesToAWS(t *testing.T) {
	const key, secret = "AKIAACKEXAMPLE000001", "ackPlantedSecretKey000000000000000000001"
	isolateAWS(t, key, secret, "")
	srv := cwAccount(key, secret, "db-main-cpu-high")
	hs := httptest.NewServer(srv)
	defer hs.Close()

	cfgPath := writeConfig(t, fmt.Sprintf(`
sources:
  - name: aws-eu
    type: cloudwatch
    region: eu-west-1
    endpoint: %[1]s
    sts_endpoint: %[1]s
    default_severity: critical
services:
  - {name: db-main, match: ['alarm_name="db-main-cpu-high"'], owner: team-data}
`, hs.URL))
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openRuntime(t, ctx, cfgPath, filepath.Join(dir, "cache.db"), filepath.Join(dir, "log"))
	snap, d := observedPoll(t, ctx, s)
	o := snap.Outage("db-main")
	require.NotNil(t, o, "the CloudWatch alarm is an outage of db-main")

	srv.ResetRequests()
	res, err := d.Do(ctx, model.ActionRequest{Verb: model.VerbAck, Service: "db-main", AlertKeys: o.Keys, Comment: "rds failover running"})
	require.NoError(t, err)
	assert.NotEqual(t, model.ActionRefused, res.State, res.Message)
	require.NoError(t, d.DeliverDue(ctx))

	b, err := d.Board()
	require.NoError(t, err)
	ack := b.AckOf("db-main")
	require.NotNil(t, ack, "the ack is recorded locally")
	assert.Equal(t, "rds failover running", ack.Comment)
	ds, err := s.Cache.Deliveries(res.ID)
	require.NoError(t, err)
	assert.Empty(t, ds, "nothing to deliver upstream for a CloudWatch alarm")
	log, err := s.Cache.AuditLog(time.Time{})
	require.NoError(t, err)
	require.NotEmpty(t, log)
	assert.Equal(t, model.VerbAck, log[len(log)-1].Verb)
	for _, r := range srv.Requests() {
		assert.Contains(t, []string{"DescribeAlarms", "ListTagsForResource", "GetCallerIdentity"}, r.Operation, "sitroom only ever reads from AWS")
	}
}
