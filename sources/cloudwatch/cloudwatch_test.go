package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	pconfig "github.com/prometheus/common/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/sources"
	"sitroom/sources/cloudwatch/cwtest"
)

const (
	prodAccount   = "123456789012"
	stagingAcct   = "210987654321"
	prodKey       = "AKIAPRODEXAMPLE00001"
	prodSecret    = "prodSecretKeyDoNotPrint0000000000000000a"
	stagingKey    = "AKIASTAGINGEXAMPLE01"
	stagingSecret = "stagingSecretDoNotPrint000000000000000b"
)

// isolate points the AWS SDK at temp shared files and away from the
// network (instance metadata) and from any credentials of the machine.
func isolate(t testing.TB, credentials, cfg string) {
	t.Helper()
	dir := t.TempDir()
	cred := filepath.Join(dir, "credentials")
	conf := filepath.Join(dir, "config")
	require.NoError(t, os.WriteFile(cred, []byte(credentials), 0o600))
	require.NoError(t, os.WriteFile(conf, []byte(cfg), 0o600))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", cred)
	t.Setenv("AWS_CONFIG_FILE", conf)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("HOME", dir)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL_STS", "AWS_CA_BUNDLE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// twoProfiles is a credentials file with two accounts' keys.
var twoProfiles = fmt.Sprintf(`[default]
aws_access_key_id = %s
aws_secret_access_key = %s

[staging]
aws_access_key_id = %s
aws_secret_access_key = %s
`, prodKey, prodSecret, stagingKey, stagingSecret)

const twoProfilesConfig = `[default]
region = us-east-1

[profile staging]
region = eu-central-1
`

type env struct {
	srv *cwtest.Server
	url string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	isolate(t, twoProfiles, twoProfilesConfig)
	srv := cwtest.New()
	srv.AddIdentity(cwtest.Identity{AccessKeyID: prodKey, SecretAccessKey: prodSecret, Account: prodAccount,
		ARN: "arn:aws:iam::" + prodAccount + ":user/noc", UserID: "AIDAPRODEXAMPLE0001"})
	srv.AddIdentity(cwtest.Identity{AccessKeyID: stagingKey, SecretAccessKey: stagingSecret, Account: stagingAcct,
		ARN: "arn:aws:iam::" + stagingAcct + ":user/noc-staging", UserID: "AIDASTAGINGEXAMPLE1"})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{srv: srv, url: hs.URL}
}

func (e *env) loadFixture(t *testing.T, account, region string) {
	t.Helper()
	out, err := cwtest.LoadOutput("../../testdata/cloudwatch/describe-alarms.json")
	require.NoError(t, err)
	if account != prodAccount || region != "eu-west-1" {
		for i := range out.MetricAlarms {
			out.MetricAlarms[i].AlarmArn = fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, account, out.MetricAlarms[i].AlarmName)
		}
		for i := range out.CompositeAlarms {
			out.CompositeAlarms[i].AlarmArn = fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", region, account, out.CompositeAlarms[i].AlarmName)
		}
	}
	e.srv.SetAlarms(account, region, out.MetricAlarms, out.CompositeAlarms)
}

func (e *env) source(t *testing.T, mod func(*config.Source), opt Options) *Source {
	t.Helper()
	sc := config.DefaultSource()
	sc.Name, sc.Type, sc.Region = "aws-prod", "cloudwatch", "eu-west-1"
	sc.Endpoint, sc.STSEndpoint = e.url, e.url
	if mod != nil {
		mod(&sc)
	}
	if opt.MaxBackoff == 0 {
		opt.MaxBackoff = 5 * time.Millisecond
	}
	s, err := New(sc, opt)
	require.NoError(t, err)
	return s
}

func byName(alerts []model.Alert) map[string]model.Alert {
	m := map[string]model.Alert{}
	for _, a := range alerts {
		m[a.Labels.Get("alarm_name")] = a
	}
	return m
}

func TestFetchMapsMetricAndCompositeAlarms(t *testing.T) {
	e := newEnv(t)
	e.loadFixture(t, prodAccount, "eu-west-1")
	s := e.source(t, func(c *config.Source) {
		c.Severity = []config.SeverityRule{{Match: `namespace="AWS/RDS"`, Severity: "critical"}}
	}, Options{})
	alerts, err := s.Fetch(context.Background())
	require.NoError(t, err)
	got := byName(alerts)
	names := make([]string, 0, len(got))
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	assert.Equal(t, []string{"checkout-degraded", "db-main-cpu-high", "edge-2-cpu-high", "edge-2-down", "payments-5xx-ratio"}, names,
		"ALARM only: the OK and INSUFFICIENT_DATA alarms stay out")

	db := got["db-main-cpu-high"]
	assert.Equal(t, map[string]string{
		"alertname": "db-main-cpu-high", "alarm_name": "db-main-cpu-high", "alarm_type": "metric",
		"namespace": "AWS/RDS", "metric_name": "CPUUtilization", "dimension_DBInstanceIdentifier": "db-main",
		"region": "eu-west-1", "account": prodAccount, "severity": "critical",
	}, db.Labels.Map())
	assert.Equal(t, model.StateFiring, db.State)
	assert.Equal(t, time.Date(2025, 11, 3, 9, 15, 4, 112e6, time.UTC), db.StartsAt.Time())
	assert.Equal(t, "db-main CPU above 90% for 5 minutes", db.Annotations.Get("summary"))
	assert.Contains(t, db.Annotations.Get("description"), "Runbook: https://runbooks.example.com/db-main")
	assert.Contains(t, db.Annotations.Get("state_reason"), "were greater than the threshold (90.0)")
	assert.Equal(t, "> 90 (Average over 60s, 5 of 5 periods) Percent", db.Annotations.Get("threshold"))
	assert.Equal(t, "DBInstanceIdentifier=db-main", db.Annotations.Get("dimensions"))
	assert.Equal(t, "2025-11-03T09:15:04Z", db.Annotations.Get("state_updated"))
	assert.Equal(t, "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/db-main-cpu-high", db.GeneratorURL)
	assert.Equal(t, model.LabelsKey(db.Labels, nil), db.Key)

	edge := got["edge-2-cpu-high"]
	assert.Equal(t, "warning", edge.Labels.Get("severity"), "no rule matches: the default severity")
	assert.Equal(t, time.Date(2025, 11, 3, 9, 12, 4, 90e6, time.UTC), edge.StartsAt.Time(), "in ALARM since the transition, not the last update")
	assert.Equal(t, "Threshold Crossed: 3 datapoints were greater than the threshold (80.0).", edge.Annotations.Get("summary"),
		"without a description the state reason is the summary")

	math := got["payments-5xx-ratio"]
	assert.Equal(t, "AWS/ApplicationELB", math.Labels.Get("namespace"), "metric math: the metric comes from the queries")
	assert.Equal(t, "app/payments/50dc6c495c0c9188", math.Labels.Get("dimension_LoadBalancer"))
	assert.Equal(t, "errors / requests", math.Annotations.Get("expression"))

	comp := got["edge-2-down"]
	assert.Equal(t, "composite", comp.Labels.Get("alarm_type"))
	assert.Equal(t, `ALARM("edge-2-bgp") AND NOT OK("edge-2-ping")`, comp.Annotations.Get("alarm_rule"))
	assert.Equal(t, model.StateFiring, comp.State)
	assert.False(t, comp.Labels.Has("namespace"))

	sup := got["checkout-degraded"]
	assert.Equal(t, model.StateSuppressed, sup.State, "a composite whose actions a suppressor holds back shows as suppressed")
	assert.Equal(t, "Alarm", sup.Annotations.Get("actions_suppressed_by"))
}

func TestPaginationAcrossPages(t *testing.T) {
	e := newEnv(t)
	var metric []cwtest.MetricAlarm
	for i := range 230 {
		var a cwtest.MetricAlarm
		a.AlarmName = fmt.Sprintf("queue-%03d-depth", i)
		a.AlarmArn = "arn:aws:cloudwatch:eu-west-1:" + prodAccount + ":alarm:" + a.AlarmName
		a.StateValue = "ALARM"
		a.Namespace, a.MetricName = "AWS/SQS", "ApproximateNumberOfMessagesVisible"
		metric = append(metric, a)
	}
	var composite []cwtest.CompositeAlarm
	for i := range 5 {
		var c cwtest.CompositeAlarm
		c.AlarmName = fmt.Sprintf("zone-%d-down", i)
		c.StateValue, c.AlarmRule = "ALARM", "ALARM(x)"
		composite = append(composite, c)
	}
	e.srv.SetAlarms(prodAccount, "eu-west-1", metric, composite)
	s := e.source(t, nil, Options{})
	alerts, err := s.Fetch(context.Background())
	require.NoError(t, err)
	assert.Len(t, alerts, 235)
	keys := map[string]bool{}
	for _, a := range alerts {
		keys[a.Key] = true
	}
	assert.Len(t, keys, 235, "every alarm once, with its own key")
	var pages []cwtest.Request
	for _, r := range e.srv.Requests() {
		if r.Operation == "DescribeAlarms" {
			pages = append(pages, r)
		}
	}
	require.Len(t, pages, 3, "100 a page")
	assert.Empty(t, pages[0].NextToken)
	assert.NotEmpty(t, pages[1].NextToken)
	assert.NotEmpty(t, pages[2].NextToken)
	assert.Equal(t, "composite", byName(alerts)["zone-4-down"].Labels.Get("alarm_type"))
}

func TestStateFilterIsServerSide(t *testing.T) {
	e := newEnv(t)
	e.loadFixture(t, prodAccount, "eu-west-1")
	s := e.source(t, func(c *config.Source) { c.States = []string{"ALARM", "INSUFFICIENT_DATA"} }, Options{})
	alerts, err := s.Fetch(context.Background())
	require.NoError(t, err)
	got := byName(alerts)
	require.Contains(t, got, "search-queue-depth")
	assert.Equal(t, model.StatePending, got["search-queue-depth"].State, "INSUFFICIENT_DATA shows as pending")
	assert.NotContains(t, got, "web-latency-p99", "OK alarms never show")
	var states []string
	for _, r := range e.srv.Requests() {
		states = append(states, r.StateValue)
	}
	assert.Equal(t, []string{"ALARM", "INSUFFICIENT_DATA"}, states, "one filtered series per state")
}

func TestThrottlingBacksOffThenSucceeds(t *testing.T) {
	e := newEnv(t)
	e.loadFixture(t, prodAccount, "eu-west-1")
	e.srv.Fail("DescribeAlarms", "Throttling", 2)
	s := e.source(t, nil, Options{})
	alerts, err := s.Fetch(context.Background())
	require.NoError(t, err)
	assert.Len(t, alerts, 5)
	var statuses []int
	for _, r := range e.srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	assert.Equal(t, []int{400, 400, 200}, statuses, "the SDK's retryer retried the throttled calls")
}

func TestThrottlingThatLastsReadsThrottled(t *testing.T) {
	e := newEnv(t)
	e.loadFixture(t, prodAccount, "eu-west-1")
	e.srv.Fail("DescribeAlarms", "Throttling", 100)
	s := e.source(t, nil, Options{MaxAttempts: 3})
	_, err := s.Fetch(context.Background())
	var fe *sources.FetchError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, KindThrottled, fe.Kind)
	assert.Equal(t, "throttled by AWS (Throttling); backing off", fe.Msg)
	assert.Len(t, e.srv.Requests(), 3, "MaxAttempts bounds one call")

	// A small budget: the retries of every call draw on one bucket per
	// source, so a throttling storm stops costing requests.
	e.srv.ResetRequests()
	s = e.source(t, nil, Options{MaxAttempts: 10, RetryBudget: 12})
	_, err = s.Fetch(context.Background())
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, KindThrottled, fe.Kind)
	assert.Contains(t, fe.Msg, "retry budget is spent")
	assert.Len(t, e.srv.Requests(), 3, "12 tokens pay for two throttled retries of 5")
}

func TestAPIErrorsInWords(t *testing.T) {
	for _, tc := range []struct {
		code string
		kind sources.FetchErrorKind
		msg  string
	}{
		{"AccessDenied", KindDenied, "access denied: User is not authorized to perform: cloudwatch:DescribeAlarms"},
		{"ExpiredToken", KindCredentials, "AWS credentials expired (profile default): refresh them, e.g. aws sso login --profile default"},
		{"InternalFailure", sources.KindAPI, "AWS error InternalFailure: Internal failure"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			e := newEnv(t)
			e.srv.Fail("DescribeAlarms", tc.code, 10)
			s := e.source(t, nil, Options{MaxAttempts: 2})
			_, err := s.Fetch(context.Background())
			var fe *sources.FetchError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.kind, fe.Kind)
			assert.Equal(t, tc.msg, fe.Error())
		})
	}
}

func TestAccessDeniedByPolicy(t *testing.T) {
	e := newEnv(t)
	e.srv.AddIdentity(cwtest.Identity{AccessKeyID: prodKey, SecretAccessKey: prodSecret, Account: prodAccount,
		ARN: "arn:aws:iam::" + prodAccount + ":user/noc", Deny: []string{"cloudwatch:DescribeAlarms"}})
	_, err := e.source(t, nil, Options{}).Fetch(context.Background())
	var fe *sources.FetchError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, KindDenied, fe.Kind)
	assert.True(t, strings.HasPrefix(fe.Msg, "access denied: User: arn:aws:iam::123456789012:user/noc is not authorized to perform: cloudwatch:DescribeAlarms"), fe.Msg)
	assert.NotContains(t, fe.Msg, "operation error", "no SDK plumbing in the message")
	assert.LessOrEqual(t, len(fe.Msg), 200)
}

func TestRegionsAndAccountsSideBySide(t *testing.T) {
	e := newEnv(t)
	e.loadFixture(t, prodAccount, "eu-west-1")
	e.loadFixture(t, prodAccount, "us-east-1")
	e.loadFixture(t, stagingAcct, "eu-central-1")
	var all []model.Alert
	for _, c := range []struct{ name, region, profile string }{
		{"aws-prod-eu", "eu-west-1", ""}, {"aws-prod-us", "us-east-1", ""}, {"aws-staging", "eu-central-1", "staging"},
	} {
		s := e.source(t, func(sc *config.Source) { sc.Name, sc.Region, sc.Profile = c.name, c.region, c.profile }, Options{})
		alerts, err := s.Fetch(context.Background())
		require.NoError(t, err, c.name)
		require.Len(t, alerts, 5, c.name)
		for _, a := range alerts {
			assert.Equal(t, c.region, a.Labels.Get("region"), c.name)
		}
		all = append(all, alerts...)
	}
	seen := map[string]string{}
	for _, a := range all {
		k := a.Labels.Get("account") + "/" + a.Labels.Get("region")
		seen[k] = a.Labels.Get("account")
	}
	assert.Equal(t, map[string]string{
		prodAccount + "/eu-west-1": prodAccount, prodAccount + "/us-east-1": prodAccount, stagingAcct + "/eu-central-1": stagingAcct,
	}, seen)
	keys := map[string]bool{}
	for _, a := range all {
		keys[a.Key] = true
	}
	assert.Len(t, keys, 15, "the same alarm name in two regions or accounts is two alerts")
	// Every request was signed for the region it asked about.
	regions := map[string]string{}
	for _, r := range e.srv.Requests() {
		regions[r.Region] = r.AccessKey
	}
	assert.Equal(t, map[string]string{"eu-west-1": prodKey, "us-east-1": prodKey, "eu-central-1": stagingKey}, regions)
}

func TestCredentialsFromSharedFilesPerProfile(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ profile, account, arn string }{
		{"", prodAccount, "arn:aws:iam::123456789012:user/noc"},
		{"staging", stagingAcct, "arn:aws:iam::210987654321:user/noc-staging"},
	} {
		s := e.source(t, func(sc *config.Source) { sc.Profile = c.profile }, Options{})
		id, err := s.Identity(context.Background())
		require.NoError(t, err, c.profile)
		assert.Equal(t, c.account, id.Account)
		assert.Equal(t, c.arn, id.ARN)
	}
	// AWS_PROFILE picks the profile when the config names none, as for the CLI.
	t.Setenv("AWS_PROFILE", "staging")
	id, err := e.source(t, nil, Options{}).Identity(context.Background())
	require.NoError(t, err)
	assert.Equal(t, stagingAcct, id.Account)
}

func TestAssumeRoleWithExternalID(t *testing.T) {
	e := newEnv(t)
	const role = "arn:aws:iam::555566667777:role/noc-read"
	e.srv.AddRole(cwtest.Role{ARN: role, ExternalID: "sitroom-noc", Account: "555566667777"})
	e.loadFixture(t, "555566667777", "eu-west-1")
	s := e.source(t, func(sc *config.Source) { sc.RoleARN, sc.ExternalID = role, "sitroom-noc" }, Options{})
	id, err := s.Identity(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sts::555566667777:assumed-role/noc-read/sitroom", id.ARN)
	alerts, err := s.Fetch(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, alerts)
	assert.Equal(t, "555566667777", alerts[0].Labels.Get("account"), "the role's account's alarms")

	s = e.source(t, func(sc *config.Source) { sc.RoleARN, sc.ExternalID = role, "wrong-id" }, Options{})
	_, err = s.Fetch(context.Background())
	var fe *sources.FetchError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, KindDenied, fe.Kind)
	assert.Contains(t, fe.Msg, "sts:AssumeRole")
}

func TestCredentialProblemsInWords(t *testing.T) {
	t.Run("missing profile", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.source(t, func(sc *config.Source) { sc.Profile = "prod-typo" }, Options{}).Fetch(context.Background())
		assert.EqualError(t, err, `AWS profile "prod-typo" not found in the shared config or credentials file`)
	})
	t.Run("no credentials anywhere", func(t *testing.T) {
		e := newEnv(t)
		isolate(t, "", "")
		_, err := e.source(t, nil, Options{}).Fetch(context.Background())
		var fe *sources.FetchError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, KindCredentials, fe.Kind, fe.Msg)
		assert.True(t, strings.HasPrefix(fe.Msg, "no AWS credentials found for profile default"), fe.Msg)
	})
	t.Run("expired keys", func(t *testing.T) {
		e := newEnv(t)
		e.srv.SetExpired(prodKey, true)
		_, err := e.source(t, nil, Options{}).Identity(context.Background())
		var fe *sources.FetchError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, KindCredentials, fe.Kind)
		assert.Contains(t, fe.Msg, "AWS credentials expired")
	})
	t.Run("wrong secret", func(t *testing.T) {
		e := newEnv(t)
		e.srv.AddIdentity(cwtest.Identity{AccessKeyID: prodKey, SecretAccessKey: "another-secret", Account: prodAccount})
		_, err := e.source(t, nil, Options{}).Fetch(context.Background())
		var fe *sources.FetchError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, KindCredentials, fe.Kind)
		assert.Contains(t, fe.Msg, "AWS rejected the credentials of profile default")
	})
}

func TestSecretsNeverInErrors(t *testing.T) {
	e := newEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAENVPLANTED000001")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envPlantedSecretNeverShow000000000000000")
	var msgs []string
	for _, code := range []string{"AccessDenied", "ExpiredToken", "Throttling", "InternalFailure", "SignatureDoesNotMatch"} {
		e.srv.Fail("DescribeAlarms", code, 10)
		_, err := e.source(t, nil, Options{MaxAttempts: 2}).Fetch(context.Background())
		require.Error(t, err)
		msgs = append(msgs, err.Error(), fmt.Sprintf("%+v", err))
		var fe *sources.FetchError
		if errors.As(err, &fe) && fe.Err != nil {
			msgs = append(msgs, fe.Err.Error())
		}
	}
	_, err := e.source(t, nil, Options{}).Identity(context.Background())
	require.Error(t, err, "the env keys are unknown to the server")
	msgs = append(msgs, err.Error())
	for _, m := range msgs {
		for _, secret := range []string{prodSecret, stagingSecret, "envPlantedSecretNeverShow000000000000000"} {
			assert.NotContains(t, m, secret)
		}
	}
}

func TestFetchHonoursContext(t *testing.T) {
	e := newEnv(t)
	e.loadFixture(t, prodAccount, "eu-west-1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.source(t, nil, Options{}).Fetch(ctx)
	var fe *sources.FetchError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, sources.KindCanceled, fe.Kind)

	e.srv.Fail("DescribeAlarms", "Throttling", 1000)
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = e.source(t, nil, Options{MaxAttempts: 1000, MaxBackoff: 50 * time.Millisecond, RetryBudget: 1 << 20}).Fetch(ctx)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, KindThrottled, fe.Kind, "a poll that times out while throttled reads throttled")
	assert.Less(t, time.Since(start), 5*time.Second, "the deadline stops the retries")
}

func TestTagsBecomeLabelsAndMapSeverity(t *testing.T) {
	e := newEnv(t)
	e.loadFixture(t, prodAccount, "eu-west-1")
	e.srv.SetTags("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:db-main-cpu-high",
		[]cwtest.Tag{{Key: "service", Value: "db-main"}, {Key: "aws:cloudformation:stack-name", Value: "db"}, {Key: "cost", Value: "x"}})
	s := e.source(t, func(sc *config.Source) {
		sc.TagLabels = []string{"service", "aws:cloudformation:stack-name"}
		sc.Severity = []config.SeverityRule{{Match: `tag_service="db-main"`, Severity: "critical"}}
	}, Options{})
	alerts, err := s.Fetch(context.Background())
	require.NoError(t, err)
	db := byName(alerts)["db-main-cpu-high"]
	assert.Equal(t, "db-main", db.Labels.Get("tag_service"))
	assert.Equal(t, "db", db.Labels.Get("tag_aws_cloudformation_stack_name"))
	assert.False(t, db.Labels.Has("tag_cost"), "only the tags named in tag_labels")
	assert.Equal(t, "critical", db.Labels.Get("severity"))
	assert.Equal(t, model.LabelsKey(db.Labels, nil), db.Key)
	cat := model.NewCatalog([]*model.Service{{Name: "db-main", Match: [][]*model.Matcher{mustMatch(t, `tag_service="db-main"`)}}})
	svc, _ := cat.ServiceFor(db.Labels)
	assert.Equal(t, "db-main", svc)

	n := len(e.srv.Requests())
	_, err = s.Fetch(context.Background())
	require.NoError(t, err)
	for _, r := range e.srv.Requests()[n:] {
		assert.NotEqual(t, "ListTagsForResource", r.Operation, "tags are cached between polls")
	}
}

func mustMatch(t *testing.T, s string) []*model.Matcher {
	ms, err := model.ParseMatchers(s)
	require.NoError(t, err)
	return ms
}

func TestStaticCredentialsForTheDemo(t *testing.T) {
	e := newEnv(t)
	isolate(t, "", "")
	e.loadFixture(t, stagingAcct, "eu-west-1")
	s := e.source(t, func(sc *config.Source) {
		sc.StaticCredentials = &config.AWSKeys{AccessKeyID: stagingKey, SecretAccessKey: pconfig.Secret(stagingSecret)}
	}, Options{})
	alerts, err := s.Fetch(context.Background())
	require.NoError(t, err)
	assert.Len(t, alerts, 5)
}
