package runtime_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/cloudwatch/cwtest"
	"sitroom/sources/runtime"
)

// Acking a CloudWatch-backed outage works like any other: a local ack,
// audited and shared through the cache; sitroom never writes to AWS.
func TestAckCloudWatchOutageIsLocalAndNeverWritesToAWS(t *testing.T) {
	const key, secret = "AKIAACKEXAMPLE000001", "ackPlantedSecretKey000000000000000000001"
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "aws-config"), nil, 0o600))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "aws-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_PROFILE", "")

	srv := cwtest.New()
	srv.AddIdentity(cwtest.Identity{AccessKeyID: key, SecretAccessKey: secret, Account: "123456789012", ARN: "arn:aws:iam::123456789012:user/noc"})
	var a cwtest.MetricAlarm
	a.AlarmName, a.StateValue = "db-main-cpu-high", "ALARM"
	a.AlarmArn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:db-main-cpu-high"
	srv.SetAlarms("123456789012", "eu-west-1", []cwtest.MetricAlarm{a}, nil)
	hs := httptest.NewServer(srv)
	defer hs.Close()

	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
sources:
  - name: aws-eu
    type: cloudwatch
    region: eu-west-1
    endpoint: %[1]s
    sts_endpoint: %[1]s
    default_severity: critical
services:
  - {name: db-main, match: ['alarm_name="db-main-cpu-high"'], owner: team-data}
`, hs.URL)), 0o600))
	g := runtime.Options{ConfigPath: cfgPath, DBPath: filepath.Join(dir, "cache.db"), LogFile: filepath.Join(dir, "log"), LogLevel: "debug"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := runtime.Open(ctx, g)
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Poller.PollOnce(ctx))
	snap, err := s.Poller.Snapshot()
	require.NoError(t, err)
	o := snap.Outage("db-main")
	require.NotNil(t, o, "the CloudWatch alarm is an outage of db-main")

	d, err := s.Dispatcher(false)
	require.NoError(t, err)
	d.Observe(snap)
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
