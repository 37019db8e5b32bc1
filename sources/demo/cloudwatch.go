package demo

import (
	"net/http"
	"time"

	pconfig "github.com/prometheus/common/config"
	pmodel "github.com/prometheus/common/model"

	"sitroom/model/config"
	"sitroom/sources/cloudwatch/cwtest"
)

// The demo's AWS account and region, and the static key pair its
// CloudWatch source signs with. The key is the test server's own, not an
// AWS credential.
const (
	cwAccount   = "123456789012"
	cwRegion    = "eu-west-1"
	cwAccessKey = "AKIADEMOEXAMPLE00001"
	cwSecretKey = "demo-only-not-an-aws-secret-000000000000"
)

// cwAlarm is one simulated CloudWatch metric alarm: in ALARM during its
// windows of the cycle, OK otherwise.
type cwAlarm struct {
	name, desc, namespace, metric string
	dim                           cwtest.Dimension
	stat                          string
	threshold                     float64
	value                         float64
	unit                          string
	active                        []window
}

// cwAlarms fit the cascade: the RDS instance behind db-main runs hot while
// its pool is exhausted, and the payments load balancer returns 5xx while
// payments fails. A third alarm stays OK and never shows.
var cwAlarms = []cwAlarm{
	{name: "db-main-cpu-high", desc: "RDS db-main CPU above 90% for 5 minutes",
		namespace: "AWS/RDS", metric: "CPUUtilization", dim: cwtest.Dimension{Name: "DBInstanceIdentifier", Value: "db-main"},
		stat: "Average", threshold: 90, value: 97.4, unit: "Percent", active: []window{{s(65), s(235)}}},
	{name: "payments-alb-5xx", desc: "payments load balancer 5xx responses above 50 a minute",
		namespace: "AWS/ApplicationELB", metric: "HTTPCode_Target_5XX_Count",
		dim:  cwtest.Dimension{Name: "LoadBalancer", Value: "app/payments/50dc6c495c0c9188"},
		stat: "Sum", threshold: 50, value: 412, unit: "Count", active: []window{{s(85), s(250)}}},
	{name: "search-sqs-backlog", desc: "search indexing queue above 10000 messages",
		namespace: "AWS/SQS", metric: "ApproximateNumberOfMessagesVisible",
		dim:  cwtest.Dimension{Name: "QueueName", Value: "search-index"},
		stat: "Maximum", threshold: 10000, value: 812, unit: "Count", active: []window{}},
}

func (d *Demo) cloudWatchHandler() http.Handler {
	srv := cwtest.New()
	srv.RecordRequests(false) // the demo runs for weeks on a wall screen
	d.cwAPI = srv
	srv.AddIdentity(cwtest.Identity{AccessKeyID: cwAccessKey, SecretAccessKey: cwSecretKey, Account: cwAccount,
		ARN: "arn:aws:iam::" + cwAccount + ":user/sitroom-demo", UserID: "AIDADEMOEXAMPLE00001"})
	srv.Alarms = func(account, region string) ([]cwtest.MetricAlarm, []cwtest.CompositeAlarm) {
		if account != cwAccount || region != cwRegion {
			return nil, nil
		}
		return d.cloudWatchAlarms(d.simTime(d.now())), nil
	}
	return srv
}

// cloudWatchAlarms are the alarms as they stand at scenario time t.
func (d *Demo) cloudWatchAlarms(t time.Time) []cwtest.MetricAlarm {
	off, cycleStart := d.offset(t)
	created := d.start.Add(-30 * 24 * time.Hour)
	out := make([]cwtest.MetricAlarm, 0, len(cwAlarms))
	for _, a := range cwAlarms {
		m := cwtest.MetricAlarm{
			Namespace: a.namespace, MetricName: a.metric, Dimensions: []cwtest.Dimension{a.dim},
			Statistic: a.stat, Period: 60, EvaluationPeriods: 5, DatapointsToAlarm: 3,
			Threshold: &a.threshold, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: "missing", Unit: a.unit,
		}
		m.AlarmName, m.AlarmDescription = a.name, a.desc
		m.AlarmArn = "arn:aws:cloudwatch:" + cwRegion + ":" + cwAccount + ":alarm:" + a.name
		enabled := true
		m.ActionsEnabled = &enabled
		m.AlarmActions = []string{"arn:aws:sns:" + cwRegion + ":" + cwAccount + ":noc-page"}
		m.AlarmConfigurationUpdatedTimestamp = created
		m.StateValue, m.StateTransitionedTimestamp = "OK", created
		m.StateReason = "Threshold Crossed: 3 datapoints were not greater than the threshold."
		for _, w := range a.active {
			if off >= w.from && off < w.to {
				m.StateValue = "ALARM"
				m.StateTransitionedTimestamp = cycleStart.Add(w.from)
				m.StateReason = "Threshold Crossed: 3 out of the last 5 datapoints were greater than the threshold (" +
					formatFloat(a.threshold) + "). Latest: " + formatFloat(a.value) + "."
			} else if off >= w.to {
				m.StateTransitionedTimestamp = cycleStart.Add(w.to)
			}
		}
		m.StateUpdatedTimestamp = t.Truncate(time.Minute)
		out = append(out, m)
	}
	return out
}

func formatFloat(f float64) string {
	return pmodel.SampleValue(f).String()
}

// cloudWatchSource is the demo's CloudWatch source: the test server's
// account in eu-west-1, signed with its static key, RDS alarms critical.
func (d *Demo) cloudWatchSource() config.Source {
	s := config.DefaultSource()
	s.Name, s.Type = "aws-eu", "cloudwatch"
	s.Interval = pmodel.Duration(5 * time.Second)
	s.Timeout = pmodel.Duration(4 * time.Second)
	s.Region, s.Endpoint, s.STSEndpoint = cwRegion, d.cw.url, d.cw.url
	s.Severity = []config.SeverityRule{{Match: `namespace="AWS/RDS"`, Severity: "critical"}}
	s.StaticCredentials = &config.AWSKeys{AccessKeyID: cwAccessKey, SecretAccessKey: pconfig.Secret(cwSecretKey)}
	return s
}
