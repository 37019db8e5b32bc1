package runtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pmodel "github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/sources"
	"sitroom/sources/actions"
	"sitroom/sources/cloudwatch/cwtest"
	"sitroom/sources/demo"
	"sitroom/sources/runtime"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// The setup the end-to-end tests of this package share.

// writeConfig writes body as config.yaml (0600) in a fresh directory and
// returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

// writeSecretFile writes secret into a 0600 file in a fresh directory and
// returns its path.
func writeSecretFile(t *testing.T, secret string) string {
	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte(secret), 0o600))
	return p
}

// diskFullConfig starts an Alertmanager holding one critical DiskFull
// alert and writes a config reading it as source am, with fields (such as
// "interval: 1s") added to the source's entry. db and logf are where the
// cache and the log go, in a fresh directory.
func diskFullConfig(t *testing.T, fields ...string) (cfg, db, logf string) {
	t.Helper()
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DiskFull", "severity": "critical"}})
	dir := t.TempDir()
	var extra string
	for _, f := range fields {
		extra += ", " + f
	}
	cfg = writeConfig(t, fmt.Sprintf("sources:\n  - {name: am, type: alertmanager, url: %s%s}\n", am.URL, extra))
	return cfg, filepath.Join(dir, "cache.db"), filepath.Join(dir, "log")
}

// openRuntime opens the runtime of the config at cfg, its cache at db and
// its debug log at logf, and closes it when the test ends.
func openRuntime(t *testing.T, ctx context.Context, cfg, db, logf string) *runtime.Runtime {
	t.Helper()
	s, err := runtime.Open(ctx, runtime.Options{ConfigPath: cfg, DBPath: db, LogFile: logf, LogLevel: "debug"})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// dispatcher is the action dispatcher of s, acting as the current operator.
func dispatcher(t *testing.T, s *runtime.Runtime) *actions.Dispatcher {
	t.Helper()
	d, err := s.Dispatcher(false)
	require.NoError(t, err)
	return d
}

// observedPoll polls every source of s once and returns the snapshot and
// a dispatcher of s that has observed it.
func observedPoll(t *testing.T, ctx context.Context, s *runtime.Runtime) (*model.Snapshot, *actions.Dispatcher) {
	t.Helper()
	require.NoError(t, s.Poller.PollOnce(ctx))
	snap, err := s.Poller.Snapshot()
	require.NoError(t, err)
	d := dispatcher(t, s)
	d.Observe(snap)
	return snap, d
}

// escalateCheckout escalates checkout to level 2 through d with comment,
// then delivers the outbox until delivered says the webhooks received it.
// It returns the escalation's action id.
func escalateCheckout(t *testing.T, ctx context.Context, d *actions.Dispatcher, comment string, delivered func() bool) int64 {
	t.Helper()
	res, err := d.Do(ctx, model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: 2, Comment: comment})
	require.NoError(t, err)
	require.NotEqual(t, model.ActionRefused, res.State, res.Message)
	require.Eventually(t, func() bool {
		_ = d.DeliverDue(ctx)
		return delivered()
	}, 10*time.Second, 20*time.Millisecond)
	return res.ID
}

// liveDashboard runs the dashboard on the real runtime of the config at
// cfg (its cache and log in a fresh directory), polling until the test
// ends, on a 160×48 screen as operator noc1.
func liveDashboard(t *testing.T, cfg string) *uitest.Harness {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	s := openRuntime(t, ctx, cfg, filepath.Join(dir, "cache.db"), filepath.Join(dir, "log"))
	done := make(chan struct{})
	go func() { s.Poller.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return uitest.Start(t, ui.Options{Feed: s.Poller, Operator: "noc1"}, 160, 48)
}

// awsAccount is the AWS account of the CloudWatch fakes.
const awsAccount = "123456789012"

// isolateAWS confines the AWS credential chain to what the test plants:
// key and secret in the environment, a shared credentials file holding
// credentials ("" for none), an empty config file, and no session token,
// profile or instance metadata.
func isolateAWS(t *testing.T, key, secret, credentials string) {
	t.Helper()
	dir := t.TempDir()
	creds, cfg := filepath.Join(dir, "credentials"), filepath.Join(dir, "config")
	require.NoError(t, os.WriteFile(creds, []byte(credentials), 0o600))
	require.NoError(t, os.WriteFile(cfg, nil, 0o600))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
}

// cwAccount is a CloudWatch fake whose account awsAccount knows key and
// secret as its user noc and holds, in eu-west-1, one alarm in state
// ALARM for each of alarms.
func cwAccount(key, secret string, alarms ...string) *cwtest.Server {
	srv := cwtest.New()
	srv.AddIdentity(cwtest.Identity{AccessKeyID: key, SecretAccessKey: secret, Account: awsAccount,
		ARN: "arn:aws:iam::" + awsAccount + ":user/noc"})
	var metric []cwtest.MetricAlarm
	for _, name := range alarms {
		var a cwtest.MetricAlarm
		a.AlarmName, a.StateValue = name, "ALARM"
		a.AlarmArn = "arn:aws:cloudwatch:eu-west-1:" + awsAccount + ":alarm:" + name
		metric = append(metric, a)
	}
	srv.SetAlarms(awsAccount, "eu-west-1", metric, nil)
	return srv
}

// stepClock is a wall clock the test moves by hand.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *stepClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// demoSpeed is how much faster than real time the stepped demo plays its
// scenario; demoStart is where its clock starts.
const demoSpeed = 60

// The upstreams' clock stands ten minutes before sitroom's, so every start
// they report is in the past as a console sees it (a start later than
// first seen would count as first seen).
var demoStart = time.Now().Add(-10 * time.Minute).Truncate(time.Second)

// steppedDemo starts the --demo upstreams until ctx ends, on a clock that
// stands still at demoStart until at(offset) moves it offset of scenario
// time on. cfg reads them, each source polled every poll and given as
// long to answer.
func steppedDemo(t *testing.T, ctx context.Context, poll time.Duration) (d *demo.Demo, cfg *config.Config, at func(offset time.Duration)) {
	t.Helper()
	clock := &stepClock{t: demoStart}
	d, err := demo.Start(ctx, demo.Options{Speed: demoSpeed, Now: clock.Now})
	require.NoError(t, err)
	at = func(offset time.Duration) { clock.Set(demoStart.Add(offset / demoSpeed)) }

	cfg = d.Config()
	for i := range cfg.Sources {
		cfg.Sources[i].Interval = pmodel.Duration(poll)
		cfg.Sources[i].Timeout = pmodel.Duration(poll)
	}
	require.NoError(t, cfg.Validate())
	return d, cfg, at
}

// configPoller is a poller of cfg's sources into c, with cfg's catalog and
// outage threshold added to opts.
func configPoller(t *testing.T, c *cache.Cache, cfg *config.Config, opts sources.PollerOptions) *sources.Poller {
	t.Helper()
	jobs, err := runtime.Jobs(cfg)
	require.NoError(t, err)
	opts.Catalog, opts.OutageThreshold = cfg.Catalog(), cfg.Threshold()
	return sources.NewPoller(c, jobs, opts)
}

// fixedAlertmanager serves the same two alerts on every poll and counts
// the polls.
func fixedAlertmanager(t *testing.T) (srv *httptest.Server, polls *atomic.Int64) {
	polls = new(atomic.Int64)
	started := time.Now().Add(-72 * time.Hour).UTC().Format(time.RFC3339)
	alert := func(name, sev, svc string) string {
		return fmt.Sprintf(`{"labels":{"alertname":%q,"severity":%q,"service":%q},"annotations":{"summary":"fixed"},`+
			`"startsAt":%q,"endsAt":"2999-01-01T00:00:00Z","updatedAt":%q,"fingerprint":"%x","generatorURL":"",`+
			`"status":{"state":"active","silencedBy":[],"inhibitedBy":[]},"receivers":[{"name":"x"}]}`, name, sev, svc, started, started, len(name))
	}
	body := "[" + alert("DiskFull", "critical", "checkout") + "," + alert("LatencyHigh", "warning", "payments") + "]"
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v2/alerts":
			polls.Add(1)
			fmt.Fprint(w, body)
		case "/api/v2/silences":
			fmt.Fprint(w, "[]")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, polls
}

// alertmanagerConfig writes a config with one Alertmanager polled every
// second and returns its path.
func alertmanagerConfig(t *testing.T, url string) string {
	t.Helper()
	return writeConfig(t, "sources:\n  - {name: am, type: alertmanager, url: '"+url+"', interval: 1s}\n")
}

// dashboardBinary is the built sitroom, for the tests that run the
// dashboard in a pseudo-terminal; -short skips them.
func dashboardBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	return bintest.Binary(t)
}

// startDashboard runs bin in an 80×24 pseudo-terminal with env on the
// config at cfg, its cache and log in a fresh directory.
func startDashboard(t *testing.T, bin string, env []string, cfg string) *bintest.PTY {
	t.Helper()
	dir := t.TempDir()
	return bintest.StartInPTY(t, bin, 80, 24, env, "--config", cfg, "--db", filepath.Join(dir, "cache.db"), "--log-file", filepath.Join(dir, "sitroom.log"))
}

// console is a runtime polling as a dashboard does (its dispatcher
// running, history recorded), with the latest snapshot kept.
type console struct {
	rt   *runtime.Runtime
	d    *actions.Dispatcher // the dispatcher it runs
	opts runtime.Options
	stop func() // stops polling and waits for it; also at cleanup

	mu   sync.Mutex
	last *model.Snapshot
}

// startConsole runs a console on the config body, with its cache and log
// in a temp dir.
func startConsole(t *testing.T, body string) *console {
	t.Helper()
	dir := t.TempDir()
	opts := runtime.Options{ConfigPath: writeConfig(t, body), DBPath: filepath.Join(dir, "cache.db"),
		LogFile: filepath.Join(dir, "log"), LogLevel: "debug"}
	return runConsole(t, opts, 0)
}

// runConsole opens the runtime of opts and runs it as the dashboard does
// (preview rows shown first), keeping the latest snapshot.
func runConsole(t *testing.T, opts runtime.Options, preview int) *console {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rt, err := runtime.Open(ctx, opts)
	require.NoError(t, err)
	d, err := rt.Dispatcher(false)
	require.NoError(t, err)
	c := &console{rt: rt, d: d, opts: opts}
	feed := rt.Feed(d)
	done, read := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		rt.Run(ctx, d, feed, preview)
	}()
	go func() {
		defer close(read)
		for s := range feed.Snapshots() {
			c.mu.Lock()
			c.last = s
			c.mu.Unlock()
		}
	}()
	var once sync.Once
	c.stop = func() { once.Do(func() { cancel(); <-done; <-read }) }
	t.Cleanup(func() { c.stop(); rt.Close() })
	return c
}

func (c *console) snapshot() *model.Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// waitFor waits until the latest snapshot satisfies ok, and returns it.
func (c *console) waitFor(t *testing.T, timeout time.Duration, what string, ok func(*model.Snapshot) bool) *model.Snapshot {
	t.Helper()
	var s *model.Snapshot
	require.Eventually(t, func() bool {
		s = c.snapshot()
		return s != nil && ok(s)
	}, timeout, 50*time.Millisecond, what)
	return s
}

// report is the handoff report of the last hour, as `sitroom handoff
// --since 1h --format json` builds it from the cache.
func (c *console) report(t *testing.T) *model.Handoff {
	t.Helper()
	r, err := runtime.Report(c.opts, model.HandoffSpan{Since: 2 * time.Hour}, time.Now())
	require.NoError(t, err)
	b, err := r.JSON()
	require.NoError(t, err)
	var out model.Handoff
	require.NoError(t, json.Unmarshal(b, &out))
	return &out
}
