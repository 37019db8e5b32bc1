package cloudwatch

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/sources/cloudwatch/cwtest"
)

// BenchmarkPoll5Regions2000Alarms is one poll of five regions holding
// 2,000 alarms in ALARM each (20 pages of 100): SigV4 signing, the test
// server's CBOR encoding, the SDK's decoding, mapping to alerts and the
// cache's ingest, steady state (nothing changed since the last poll).
func BenchmarkPoll5Regions2000Alarms(b *testing.B) {
	isolate(b, twoProfiles, twoProfilesConfig)
	srv := cwtest.New()
	srv.AddIdentity(cwtest.Identity{AccessKeyID: prodKey, SecretAccessKey: prodSecret, Account: prodAccount, ARN: "arn:aws:iam::123456789012:user/noc"})
	regions := []string{"eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2"}
	since := time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC)
	for _, r := range regions {
		var ms []cwtest.MetricAlarm
		for i := range 2000 {
			th := 80.0
			m := cwtest.MetricAlarm{Namespace: "AWS/EC2", MetricName: "CPUUtilization",
				Dimensions: []cwtest.Dimension{{Name: "InstanceId", Value: fmt.Sprintf("i-%017x", i)}},
				Statistic:  "Average", Period: 60, EvaluationPeriods: 3, Threshold: &th, ComparisonOperator: "GreaterThanThreshold"}
			m.AlarmName = fmt.Sprintf("ec2-%05d-cpu-high", i)
			m.AlarmArn = "arn:aws:cloudwatch:" + r + ":" + prodAccount + ":alarm:" + m.AlarmName
			m.AlarmDescription = "CPU above 80% for 3 minutes"
			m.StateValue, m.StateReason = "ALARM", "Threshold Crossed: 3 datapoints were greater than the threshold (80.0)."
			m.StateUpdatedTimestamp, m.StateTransitionedTimestamp = since, since
			ms = append(ms, m)
		}
		srv.SetAlarms(prodAccount, r, ms, nil)
	}
	hs := httptest.NewServer(srv)
	b.Cleanup(hs.Close)
	c, err := cache.Open(filepath.Join(b.TempDir(), "cache.db"))
	require.NoError(b, err)
	b.Cleanup(func() { c.Close() })
	var srcs []*Source
	for _, r := range regions {
		sc := config.DefaultSource()
		sc.Name, sc.Type, sc.Region, sc.Endpoint = "aws-"+r, "cloudwatch", r, hs.URL
		s, err := New(sc, Options{})
		require.NoError(b, err)
		srcs = append(srcs, s)
	}
	poll := func() {
		for _, s := range srcs {
			alerts, err := s.Fetch(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if len(alerts) != 2000 {
				b.Fatalf("%d alerts", len(alerts))
			}
			if _, err := c.Ingest(s.Name(), alerts, cache.PollMeta{Type: Type}); err != nil {
				b.Fatal(err)
			}
		}
	}
	poll() // first poll fills the cache
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		poll()
	}
	b.ReportMetric(float64(len(regions)*2000), "alarms/poll")
}
