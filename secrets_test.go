package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/cloudwatch/cwtest"
	"sitroom/sources/sourcetest"
)

// panicSource fetches through the real source (with its credentials) and
// then panics, as a bug in a decoder would.
type panicSource struct{ sources.Source }

func (p panicSource) Fetch(ctx context.Context) ([]model.Alert, error) {
	_, _ = p.Source.Fetch(ctx)
	panic("forced panic in " + p.Name())
}

// Secrets planted in one config — a basic_auth password, bearer tokens
// (authorization credentials), AWS keys in the environment and a PagerDuty
// routing key — go where they must (the upstream's request) and nowhere
// else: not into check's output, poll's output, the handoff report, the
// cache file or its WAL, the outbox rows, the log (a poller panic
// included).
func TestPlantedSecretsReachNoOutput(t *testing.T) {
	const (
		password = "pw-PLANTED-basic-7f3a"
		token    = "tok-PLANTED-bearer-91cc"
		hookTok  = "tok-PLANTED-hook-2b8e"
		awsKey   = "AKIAPLANTEDKEY000042"
		awsSec   = "awsPLANTEDsecret0000000000000000000042"
		pdKey    = "pdPLANTEDroutingkey000000000000042"
	)
	secrets := []string{password, token, hookTok, awsKey, awsSec, pdKey}

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "aws-config"), nil, 0o600))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "aws-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", awsKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awsSec)
	t.Setenv("AWS_PROFILE", "")
	cw := cwtest.New()
	cw.AddIdentity(cwtest.Identity{AccessKeyID: awsKey, SecretAccessKey: awsSec, Account: "123456789012", ARN: "arn:aws:iam::123456789012:user/noc"})
	var alarm cwtest.MetricAlarm
	alarm.AlarmName, alarm.StateValue = "db-main-cpu-high", "ALARM"
	alarm.AlarmArn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:db-main-cpu-high"
	cw.SetAlarms("123456789012", "eu-west-1", []cwtest.MetricAlarm{alarm}, nil)
	cwSrv := httptest.NewServer(cw)
	defer cwSrv.Close()

	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "CheckoutErrors", "severity": "critical", "service": "checkout"},
		Annotations: map[string]string{"summary": "checkout 5xx"}})

	// Webhook receivers record what they were sent.
	var mu sync.Mutex
	got := map[string][]string{} // receiver → headers and bodies
	recv := func(name string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got[name] = append(got[name], r.Header.Get("Authorization")+"\n"+string(b))
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	hook, pd := recv("hook"), recv("pd")

	cfgPath := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
sources:
  - name: am-basic
    type: alertmanager
    url: %[1]s
    basic_auth: {username: noc, password: %[2]s}
  - name: am-bearer
    type: alertmanager
    url: %[1]s
    authorization: {credentials: %[3]s}
  - name: aws-eu
    type: cloudwatch
    region: eu-west-1
    endpoint: %[4]s
    sts_endpoint: %[4]s
    default_severity: critical
services:
  - {name: checkout, match: ['service="checkout"'], owner: team-web}
  - {name: db-main, match: ['alarm_name="db-main-cpu-high"'], owner: team-data}
escalation:
  - {level: 1, who: "NOC tier 1"}
  - {level: 2, who: "owner on-call", contact: "#web-oncall", after: 15m}
webhooks:
  - name: noc-bot
    url: %[5]s
    authorization: {credentials: %[6]s}
  - {name: pagerduty, url: %[7]s, format: pagerduty, routing_key: %[8]s}
`, am.URL, password, token, cwSrv.URL, hook.URL, hookTok, pd.URL, pdKey)), 0o644))
	require.NoError(t, os.Chmod(cfgPath, 0o644))
	db, logf := filepath.Join(dir, "state", "cache.db"), filepath.Join(dir, "state", "sitroom.log")
	common := []string{"--config", cfgPath, "--db", db, "--log-file", logf, "--log-level", "debug"}

	var outputs []string
	code, out, errOut := runCmd(t, append([]string{"check"}, common...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "readable by others and holds inline secrets", "a world-readable config with inline secrets draws a warning")
	assert.Contains(t, out, "account 123456789012", "check resolved the planted AWS identity")
	outputs = append(outputs, "check: "+out+errOut)

	code, out, errOut = runCmd(t, append([]string{"poll", "--once"}, common...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "2 outages", "both the Alertmanager and the CloudWatch alarm were read")
	outputs = append(outputs, "poll: "+out+errOut)

	// An escalation through both webhooks, and a forced poller panic,
	// logged through the same log file.
	g := globalFlags{config: cfgPath, db: db, logFile: logf, logLevel: "debug"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := newSetup(ctx, g, nil)
	require.NoError(t, err)
	d, err := newDispatcher(s.cfg, s.cache, s.poller, false, s.log)
	require.NoError(t, err)
	res, err := d.Do(ctx, model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 2, Comment: "5xx still climbing"})
	require.NoError(t, err)
	require.NotEqual(t, model.ActionRefused, res.State, res.Message)
	require.Eventually(t, func() bool {
		_ = d.DeliverDue(ctx)
		mu.Lock()
		defer mu.Unlock()
		return len(got["hook"]) == 1 && len(got["pd"]) == 1
	}, 10*time.Second, 20*time.Millisecond)
	mu.Lock()
	assert.Contains(t, got["hook"][0], "Bearer "+hookTok, "the webhook's token is sent to the webhook")
	assert.Contains(t, got["pd"][0], pdKey, "the routing key is sent to PagerDuty")
	mu.Unlock()
	deliveries, err := s.cache.Deliveries(res.ID)
	require.NoError(t, err)
	require.Len(t, deliveries, 2)
	for _, dl := range deliveries {
		outputs = append(outputs, fmt.Sprintf("outbox row: %+v", dl))
	}

	jobs, err := buildJobs(s.cfg)
	require.NoError(t, err)
	for i := range jobs {
		if jobs[i].Source != nil {
			jobs[i].Source = panicSource{jobs[i].Source}
		}
	}
	panicked := make(chan struct{}, len(jobs))
	p := sources.NewPoller(s.cache, jobs, sources.PollerOptions{Logger: s.log, Holder: "secrets-test",
		OnPanic: func(any, []byte) { panicked <- struct{}{} }})
	pctx, pcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(pctx); close(done) }()
	select {
	case <-panicked:
	case <-time.After(10 * time.Second):
		t.Fatal("the forced panic never reached OnPanic")
	}
	pcancel()
	<-done

	// Grep the files while the cache is still open (the WAL holds the
	// latest writes), then once more after it is closed.
	grepFiles := func(when string) {
		for _, f := range []string{db, db + "-wal", logf} {
			b, err := os.ReadFile(f)
			if os.IsNotExist(err) {
				continue
			}
			require.NoError(t, err)
			for _, sec := range secrets {
				assert.False(t, strings.Contains(string(b), sec), "%s: %s holds the planted secret %s", when, filepath.Base(f), sec)
			}
		}
	}
	grepFiles("cache open")
	s.close()
	grepFiles("cache closed")
	logText, err := os.ReadFile(logf)
	require.NoError(t, err)
	assert.Contains(t, string(logText), "forced panic in", "the panic was logged, stack and all")
	assert.Contains(t, string(logText), "goroutine ")

	for _, format := range []string{"md", "json"} {
		code, out, errOut = runCmd(t, "handoff", "--since", "8h", "--format", format, "--config", cfgPath, "--db", db, "--log-file", logf)
		require.Equal(t, 0, code, out+errOut)
		assert.Contains(t, out, "checkout", "the report covers the escalated outage")
		outputs = append(outputs, "handoff "+format+": "+out+errOut)
	}
	for _, o := range outputs {
		for _, sec := range secrets {
			assert.NotContains(t, o, sec)
		}
	}
}
