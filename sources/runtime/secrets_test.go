package runtime_test

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/actions"
	"sitroom/sources/runtime"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
	"sitroom/sources/tickets/jira/jiratest"
	"sitroom/sources/tickets/servicenow/sntest"
)

// panicSource fetches through the real source (with its credentials) and
// then panics, as a bug in a decoder would.
type panicSource struct{ sources.Source }

func (p panicSource) Fetch(ctx context.Context) ([]model.Alert, error) {
	_, _ = p.Source.Fetch(ctx)
	panic("forced panic in " + p.Name())
}

// panicTickets is panicSource for a ticket source.
type panicTickets struct{ sources.TicketFetcher }

func (p panicTickets) Fetch(ctx context.Context) ([]model.Ticket, error) {
	_, _ = p.TicketFetcher.Fetch(ctx)
	panic("forced panic in " + p.Name())
}

// ticketDesks starts the three ticket systems with planted credentials: a
// real Request Tracker (its token read from a token file by one source and
// given inline by another, root's password as basic_auth by a third), the
// Jira fake (an API token as basic_auth) and the ServiceNow fake, read once
// with basic_auth and once through OAuth (client credentials at
// /oauth_token.do, the access token then sent as a bearer). It returns the
// sources' config entries, the secrets, and escalate, which escalates one
// Tier 1 ticket of each system through the dispatcher and checks that each
// system received it.
func ticketDesks(t *testing.T) (yaml string, secrets []string, escalate func(ctx context.Context, d *actions.Dispatcher) []int64) {
	const (
		jiraTok        = "jiraPLANTEDapitoken00000000000042"
		snPassword     = "snPLANTEDpassword0042"
		snClientSec    = "snPLANTEDclientsecret0042"
		snAccessTok    = "snPLANTEDaccesstoken0042"
		snGroupT1      = "a1000000000000000000000000000001"
		snGroupT2      = "a1000000000000000000000000000002"
		snIncident     = "e1000000000000000000000000000001"
		jiraT1, jiraT2 = `project = NOC AND "Tier" = "1"`, `project = NOC AND "Tier" = "2"`
	)
	rtSrv := sourcetest.StartRT(t, sourcetest.WithRTQueues("NOC", "NOC-T2"))
	rtTicket := rtSrv.CreateTicket(t, "NOC", "edge-2 BGP session down", 85, "ops@example.com")
	tokenFile := writeSecretFile(t, rtSrv.Token+"\n")

	js := jiratest.New(t)
	js.Token = jiraTok
	js.JQL(jiraT1, func(is *jiratest.Issue) bool { return is.Status == "In Progress" })
	js.JQL(jiraT2, func(is *jiratest.Issue) bool { return is.Status == "Escalated" })
	js.Transitions(jiratest.Transition{ID: "31", Name: "Escalate to Tier 2", To: "Escalated"})
	js.Add(&jiratest.Issue{ID: "10814", Key: "NOC-814", Summary: "disk full on db-main", Status: "In Progress", Project: "NOC",
		Created: time.Now().Add(-time.Hour), Updated: time.Now().Add(-time.Hour)})

	sn := sntest.New(t)
	sn.Password = snPassword
	sn.Add("sys_user_group", sntest.Record{"sys_id": snGroupT1, "name": "NOC Tier 1"}, sntest.Record{"sys_id": snGroupT2, "name": "NOC Tier 2"})
	sn.Add("incident", sntest.Record{"sys_id": snIncident, "number": "INC0041207", "short_description": "payments 5xx", "state": "2",
		"priority": "1", "active": "true", "assignment_group": snGroupT1, "assigned_to": "",
		"opened_at": time.Now().UTC().Add(-time.Hour).Format("2006-01-02 15:04:05"), "sys_updated_on": time.Now().UTC().Add(-time.Hour).Format("2006-01-02 15:04:05")})
	// The instance's OAuth: the token endpoint takes the client's
	// credentials (in the Authorization header or the form) and issues an
	// access token, which the Table API then accepts as a bearer.
	var issued atomic.Int32
	oauth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth_token.do" {
			_ = r.ParseForm()
			id, sec, ok := r.BasicAuth()
			if !ok {
				id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
			}
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			if r.Method != http.MethodPost || r.PostForm.Get("grant_type") != "client_credentials" || id != "sitroom-client" || sec != snClientSec {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"error_description":"access_denied","error":"server_error"}`)
				return
			}
			issued.Add(1)
			fmt.Fprintf(w, `{"access_token":%q,"scope":"useraccount","token_type":"Bearer","expires_in":1799}`, snAccessTok)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+snAccessTok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`)
			return
		}
		r.SetBasicAuth(sn.User, sn.Password)
		sn.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(oauth.Close)

	yaml = fmt.Sprintf(`  - name: rt-file
    type: rt
    url: %[1]s
    authorization: {type: token, credentials_file: %[2]s}
    tiers: {tier1: {queues: [NOC]}, tier2: {queues: [NOC-T2]}}
  - name: rt-inline
    type: rt
    url: %[1]s
    authorization: {type: token, credentials: %[3]s}
    tiers: {tier1: {queues: [NOC]}, tier2: {queues: [NOC-T2]}}
  - name: rt-basic
    type: rt
    url: %[1]s
    basic_auth: {username: root, password: %[4]s}
    tiers: {tier1: {queues: [NOC]}, tier2: {queues: [NOC-T2]}}
  - name: jsm
    type: jira
    url: %[5]s
    basic_auth: {username: %[6]s, password: %[7]s}
    tiers: {tier1: {jql: '%[8]s'}, tier2: {jql: '%[9]s'}}
    transition: Escalate to Tier 2
  - name: sn-basic
    type: servicenow
    url: %[10]s
    basic_auth: {username: %[11]s, password: %[12]s}
    tiers: {tier1: {groups: [NOC Tier 1]}, tier2: {groups: [NOC Tier 2]}}
  - name: sn-oauth
    type: servicenow
    url: %[13]s
    oauth2: {client_id: sitroom-client, client_secret: %[14]s, token_url: %[13]s/oauth_token.do}
    tiers: {tier1: {groups: [NOC Tier 1]}, tier2: {groups: [NOC Tier 2]}}
`, rtSrv.URL, tokenFile, rtSrv.Token, rtSrv.Password, js.URL, js.Email, jiraTok, jiraT1, jiraT2,
		sn.URL, sn.User, snPassword, oauth.URL, snClientSec)
	secrets = []string{rtSrv.Token, rtSrv.Password, jiraTok, snPassword, snClientSec, snAccessTok}

	escalate = func(ctx context.Context, d *actions.Dispatcher) []int64 {
		refs := []model.TicketRef{
			{Source: "rt-file", ID: rtTicket, Number: "#" + rtTicket, Tier: model.Tier1},
			{Source: "jsm", ID: "10814", Number: "NOC-814", Tier: model.Tier1},
			{Source: "sn-oauth", ID: snIncident, Number: "INC0041207", Tier: model.Tier1},
		}
		rtT2 := rtSrv.QueueID(t, "NOC-T2")
		var ids []int64
		for _, ref := range refs {
			res, err := d.Do(ctx, model.ActionRequest{Verb: model.VerbTicketEscalate, Ticket: ref, Comment: "needs the DBA on call"})
			require.NoError(t, err)
			require.NotEqual(t, model.ActionRefused, res.State, res.Message)
			ids = append(ids, res.ID)
		}
		require.Eventually(t, func() bool {
			_ = d.DeliverDue(ctx)
			return rtSrv.Ticket(t, rtTicket).Queue.ID == rtT2 && js.Issue("10814").Status == "Escalated" &&
				sn.Get("incident", snIncident)["assignment_group"] == snGroupT2
		}, 30*time.Second, 50*time.Millisecond, "each system received its escalation")
		assert.NotZero(t, issued.Load(), "sn-oauth fetched an access token")
		return ids
	}
	return yaml, secrets, escalate
}

// Secrets planted in one config — a basic_auth password, bearer tokens
// (authorization credentials), AWS keys in the environment, a PagerDuty
// routing key, and the ticket systems' credentials (an RT token from a
// token file and inline, RT basic_auth, a Jira API token, ServiceNow
// basic_auth and an OAuth client secret with the access token it earns) —
// go where they must (the upstream's request) and nowhere else: not into
// check's output, poll's output, the handoff report, the cache file or its
// WAL, the outbox rows, the log (a poller panic included), after a poll
// and an escalation through every ticket system.
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
	ticketYAML, ticketSecrets, escalateTickets := ticketDesks(t)
	secrets = append(secrets, ticketSecrets...)
	isolateAWS(t, awsKey, awsSec, "")
	cwSrv := httptest.NewServer(cwAccount(awsKey, awsSec, "db-main-cpu-high"))
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
%[9]sservices:
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
`, am.URL, password, token, cwSrv.URL, hook.URL, hookTok, pd.URL, pdKey, ticketYAML)), 0o644))
	require.NoError(t, os.Chmod(cfgPath, 0o644))
	db, logf := filepath.Join(dir, "state", "cache.db"), filepath.Join(dir, "state", "sitroom.log")
	common := []string{"--config", cfgPath, "--db", db, "--log-file", logf, "--log-level", "debug"}

	var outputs []string
	code, out, errOut := bintest.Run(t, append([]string{"check"}, common...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "readable by others and holds inline secrets", "a world-readable config with inline secrets draws a warning")
	assert.Contains(t, out, "account 123456789012", "check resolved the planted AWS identity")
	for _, name := range []string{"rt-file", "rt-inline", "rt-basic", "jsm", "sn-basic", "sn-oauth"} {
		assert.Regexp(t, `(?m)^ok +`+name+` .* 1 open tickets? in`, out, "check read %s with its credentials", name)
	}
	outputs = append(outputs, "check: "+out+errOut)

	code, out, errOut = bintest.Run(t, append([]string{"poll", "--once"}, common...)...)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "2 outages", "both the Alertmanager and the CloudWatch alarm were read")
	outputs = append(outputs, "poll: "+out+errOut)

	// An escalation through both webhooks, and a forced poller panic,
	// logged through the same log file.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openRuntime(t, ctx, cfgPath, db, logf)
	d := dispatcher(t, s)
	escalation := escalateCheckout(t, ctx, d, "5xx still climbing", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got["hook"]) == 1 && len(got["pd"]) == 1
	})
	mu.Lock()
	assert.Contains(t, got["hook"][0], "Bearer "+hookTok, "the webhook's token is sent to the webhook")
	assert.Contains(t, got["pd"][0], pdKey, "the routing key is sent to PagerDuty")
	mu.Unlock()
	deliveries, err := s.Cache.Deliveries(escalation)
	require.NoError(t, err)
	require.Len(t, deliveries, 2)
	for _, id := range append([]int64{escalation}, escalateTickets(ctx, d)...) {
		deliveries, err := s.Cache.Deliveries(id)
		require.NoError(t, err)
		require.NotEmpty(t, deliveries)
		for _, dl := range deliveries {
			outputs = append(outputs, fmt.Sprintf("outbox row: %+v", dl))
		}
	}
	audit, err := s.Cache.AuditLog(time.Time{})
	require.NoError(t, err)
	for _, a := range audit {
		outputs = append(outputs, fmt.Sprintf("audit entry: %+v", a))
	}

	jobs, err := runtime.Jobs(s.Config)
	require.NoError(t, err)
	for i := range jobs {
		if jobs[i].Source != nil {
			jobs[i].Source = panicSource{jobs[i].Source}
		} else {
			jobs[i].Tickets = panicTickets{jobs[i].Tickets}
		}
	}
	panicked := make(chan struct{}, len(jobs))
	p := sources.NewPoller(s.Cache, jobs, sources.PollerOptions{Logger: s.Log, Holder: "secrets-test",
		OnPanic: func(any, []byte) { panicked <- struct{}{} }})
	pctx, pcancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { p.Run(pctx); close(done) }()
	for range jobs { // every source polled with its credentials, then panicked
		select {
		case <-panicked:
		case <-time.After(20 * time.Second):
			t.Fatal("a forced panic never reached OnPanic")
		}
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
	s.Close()
	grepFiles("cache closed")
	logText, err := os.ReadFile(logf)
	require.NoError(t, err)
	assert.Contains(t, string(logText), "forced panic in", "the panic was logged, stack and all")
	assert.Contains(t, string(logText), "goroutine ")

	for _, format := range []string{"md", "json"} {
		code, out, errOut = bintest.Run(t, "handoff", "--since", "8h", "--format", format, "--config", cfgPath, "--db", db, "--log-file", logf)
		require.Equal(t, 0, code, out+errOut)
		assert.Contains(t, out, "checkout", "the report covers the escalated outage")
		assert.Contains(t, out, "NOC-814", "the report lists the escalated tickets")
		outputs = append(outputs, "handoff "+format+": "+out+errOut)
	}
	for _, o := range outputs {
		for _, sec := range secrets {
			assert.NotContains(t, o, sec)
		}
	}
}

// The log file and the cache are created private where nothing exists
// yet: with the default paths under $XDG_STATE_HOME (whose directory does
// not exist) and with --log-file and --db in a directory that does not
// exist, each directory sitroom makes is 0700 and each file 0600.
func TestStateFilesCreatedPrivate(t *testing.T) {
	sn := sntest.New(t)
	sn.Add("sys_user_group", sntest.Record{"sys_id": "a1000000000000000000000000000001", "name": "NOC Tier 1"},
		sntest.Record{"sys_id": "a1000000000000000000000000000002", "name": "NOC Tier 2"})
	sn.Add("incident", sntest.Record{"sys_id": "e1000000000000000000000000000001", "number": "INC0041207", "short_description": "payments 5xx",
		"state": "2", "priority": "1", "active": "true", "assignment_group": "a1000000000000000000000000000001", "assigned_to": "",
		"opened_at": "2026-11-26 11:00:00", "sys_updated_on": "2026-11-26 11:00:00"})
	cfg := writeConfig(t, fmt.Sprintf(`sources:
  - name: desk
    type: servicenow
    url: %s
    basic_auth: {username: %s, password_file: %s}
    tiers: {tier1: {groups: [NOC Tier 1]}, tier2: {groups: [NOC Tier 2]}}
`, sn.URL, sn.User, writeSecretFile(t, sn.Password)))
	mode := func(path string) os.FileMode {
		t.Helper()
		fi, err := os.Stat(path)
		require.NoError(t, err)
		return fi.Mode().Perm()
	}

	xdg := filepath.Join(t.TempDir(), "xdg-state")
	t.Setenv("XDG_STATE_HOME", xdg)
	code, out, errOut := bintest.Run(t, "poll", "--once", "--config", cfg)
	require.Equal(t, 0, code, out+errOut)
	for _, d := range []string{xdg, filepath.Join(xdg, "sitroom")} {
		assert.Equal(t, os.FileMode(0o700), mode(d), d)
	}
	for _, f := range []string{"sitroom.log", "cache.db", "cache.db-wal", "cache.db-shm"} {
		if p := filepath.Join(xdg, "sitroom", f); f == "sitroom.log" || f == "cache.db" || fileExists(p) {
			assert.Equal(t, os.FileMode(0o600), mode(p), f)
		}
	}

	other := filepath.Join(t.TempDir(), "a", "b")
	logf, db := filepath.Join(other, "logs", "sitroom.log"), filepath.Join(other, "db", "cache.db")
	code, out, errOut = bintest.Run(t, "poll", "--once", "--config", cfg, "--log-file", logf, "--db", db)
	require.Equal(t, 0, code, out+errOut)
	for _, d := range []string{filepath.Dir(other), other, filepath.Dir(logf), filepath.Dir(db)} {
		assert.Equal(t, os.FileMode(0o700), mode(d), d)
	}
	assert.Equal(t, os.FileMode(0o600), mode(logf))
	assert.Equal(t, os.FileMode(0o600), mode(db))
	logText, err := os.ReadFile(logf)
	require.NoError(t, err)
	assert.Contains(t, string(logText), "desk", "the log file was written")
	assert.NotContains(t, string(logText), sn.Password)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
