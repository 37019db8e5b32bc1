package sourcetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// Paths of Request Tracker 5 from the Debian packages request-tracker5,
// rt5-db-sqlite and rt5-standalone.
const (
	RTServerBinary  = "/usr/share/request-tracker5/libexec/rt-server"
	RTSetupDatabase = "/usr/sbin/rt-setup-database"
	RTLib           = "/usr/share/request-tracker5/lib"
)

// RTPackages are the Debian packages the RT integration tests need.
const RTPackages = "request-tracker5 rt5-db-sqlite rt5-standalone"

// RTServer is a running Request Tracker with REST2.
type RTServer struct {
	*Server
	// Token is an auth token of the root user ("Authorization: token …").
	Token string
	// Password is root's password (basic auth).
	Password string
}

// RTOption changes how StartRT sets RT up.
type RTOption func(*rtOptions)

type rtOptions struct {
	queues   []string
	users    []string
	cfs      []string
	timezone string
}

// WithRTCustomFields creates global free-form single-value ticket custom
// fields with these names.
func WithRTCustomFields(names ...string) RTOption {
	return func(o *rtOptions) { o.cfs = append(o.cfs, names...) }
}

// WithRTQueues creates these queues (default NOC and NOC-T2).
func WithRTQueues(names ...string) RTOption {
	return func(o *rtOptions) { o.queues = names }
}

// WithRTUsers creates privileged users who may own tickets in every queue.
func WithRTUsers(names ...string) RTOption {
	return func(o *rtOptions) { o.users = append(o.users, names...) }
}

// WithRTTimezone sets RT's $Timezone (default Europe/Berlin, so that a
// client treating RT's TicketSQL dates as UTC is caught).
func WithRTTimezone(tz string) RTOption {
	return func(o *rtOptions) { o.timezone = tz }
}

// rtSetupScript creates the queues and users named on its command line and
// an auth token for root, printed on stdout.
const rtSetupScript = `use strict; use warnings;
use RT -init;
my ($pw, $queues, $users, $cfs) = @ARGV;
my $root = RT::User->new(RT->SystemUser);
$root->Load('root') or die "no root user";
my ($ok, $msg) = $root->SetPassword($pw);
die "password: $msg" unless $ok;
for my $q (grep { length } split /,/, $queues) {
    my $o = RT::Queue->new(RT->SystemUser);
    ($ok, $msg) = $o->Create(Name => $q, Description => 'sitroom test queue');
    die "queue $q: $msg" unless $ok;
}
for my $name (grep { length } split /,/, $users) {
    my $u = RT::User->new(RT->SystemUser);
    ($ok, $msg) = $u->Create(Name => $name, EmailAddress => "$name\@example.com", Privileged => 1);
    die "user $name: $msg" unless $ok;
    for my $right (qw(OwnTicket ShowTicket)) {
        ($ok, $msg) = $u->PrincipalObj->GrantRight(Right => $right, Object => RT->System);
        die "right $right for $name: $msg" unless $ok;
    }
}
for my $name (grep { length } split /,/, $cfs // '') {
    my $cf = RT::CustomField->new(RT->SystemUser);
    ($ok, $msg) = $cf->Create(Name => $name, Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket');
    die "custom field $name: $msg" unless $ok;
    ($ok, $msg) = $cf->AddToObject(RT::Queue->new(RT->SystemUser));
    die "custom field $name: $msg" unless $ok;
}
my $t = RT::AuthToken->new(RT->SystemUser);
my ($tok_ok, $tok_msg, $token) = $t->Create(Owner => $root->Id, Description => 'sitroom tests');
die "token: $tok_msg" unless $tok_ok;
print "$token\n";
`

// StartRT sets up a fresh Request Tracker in a temp dir (SQLite database,
// its own RT_SITE_CONFIG_DIR, mail to files, queues NOC and NOC-T2 unless
// WithRTQueues says otherwise, an auth token for root) and runs rt-server
// on a free loopback port with two workers until the test ends. It skips
// when RT is not installed, unless SITROOM_REQUIRE_INTEGRATION is set.
// It takes about 5 s.
func StartRT(t testing.TB, opts ...RTOption) *RTServer {
	t.Helper()
	o := rtOptions{queues: []string{"NOC", "NOC-T2"}, timezone: "Europe/Berlin"}
	for _, f := range opts {
		f(&o)
	}
	for _, bin := range []string{RTServerBinary, RTSetupDatabase} {
		if _, err := os.Stat(bin); err != nil {
			hint := fmt.Sprintf("%s not found; install Request Tracker with: echo 'request-tracker5 request-tracker5/dbconfig-install boolean false' | debconf-set-selections; apt-get install -y --no-install-recommends %s", bin, RTPackages)
			if os.Getenv(RequireEnv) != "" {
				t.Fatalf("%s (%s is set, so integration tests may not skip)", hint, RequireEnv)
			}
			t.Skip(hint)
		}
	}
	dir := t.TempDir()
	site := filepath.Join(dir, "siteconfig.d")
	if err := os.MkdirAll(site, 0o700); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "RT_SITE_CONFIG_DIR="+site)
	writeSite := func(port int) {
		cfg := fmt.Sprintf(`Set($DatabaseType, 'SQLite');
Set($DatabaseName, %s);
Set($WebPath, '');
Set($WebDomain, '127.0.0.1');
Set($WebPort, %d);
Set($WebBaseURL, 'http://127.0.0.1:%d');
Set($MailCommand, 'testfile');
Set($LogToSTDERR, 'warning');
Set($LogToSyslog, undef);
Set($Timezone, %s);
1;
`, perlQuote(filepath.Join(dir, "rtdb")), port, port, perlQuote(o.timezone))
		if err := os.WriteFile(filepath.Join(site, "sitroom.pm"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) []byte {
		cmd := exec.Command(name, args...)
		cmd.Env, cmd.Dir = env, dir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(errb.String(), 2048))
		}
		return out.Bytes()
	}
	writeSite(0)
	run(RTSetupDatabase, "--action", "init", "--skip-create")
	password := "sitroom-test-pw"
	script := filepath.Join(dir, "setup.pl")
	if err := os.WriteFile(script, []byte(rtSetupScript), 0o600); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(run("perl", "-I"+RTLib, script, password, strings.Join(o.queues, ","), strings.Join(o.users, ","), strings.Join(o.cfs, ","))))
	if token == "" {
		t.Fatal("RT setup printed no auth token")
	}

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		writeSite(port)
		logPath := filepath.Join(dir, fmt.Sprintf("rt-server-%d.log", attempt))
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(RTServerBinary, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--max-workers", "2")
		cmd.Env, cmd.Dir = env, dir
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("starting rt-server: %v", err)
		}
		srv := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Dir: dir, LogPath: logPath, name: "rt-server", cmd: cmd, done: make(chan struct{}), stopOnce: new(sync.Once)}
		go func() {
			_ = cmd.Wait()
			logf.Close()
			close(srv.done)
		}()
		t.Cleanup(srv.Stop)
		rt := &RTServer{Server: srv, Token: token, Password: password}
		lastErr = rt.waitREST(30 * time.Second)
		if lastErr == nil {
			return rt
		}
		srv.Stop()
		if !strings.Contains(srv.LogTail(4096), "in use") {
			break
		}
	}
	t.Fatalf("rt-server did not become ready: %v", lastErr)
	return nil
}

func perlQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitREST waits until an authenticated REST2 call answers 200.
func (s *RTServer) waitREST(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("rt-server exited early; log tail:\n%s", s.LogTail(2048))
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/REST/2.0/queues/all", nil)
		req.Header.Set("Authorization", "token "+s.Token)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("REST2 not answering after %s; log tail:\n%s", timeout, s.LogTail(2048))
}

// Do sends a REST2 request as root (path below /REST/2.0, body JSON-encoded
// unless it is a string, sent as text/plain) and decodes a JSON reply into
// out when out is not nil. It fails the test on a non-2xx status.
func (s *RTServer) Do(t testing.TB, method, path string, body, out any) {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "text/plain"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+"/REST/2.0"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+s.Token)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.Fatalf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, tail(string(b), 500))
	}
	if out != nil {
		// Case-sensitive: RT items carry both "type" and "Type".
		if err := jsonv2.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, path, tail(string(b), 300), err)
		}
	}
}

// CreateTicket creates a ticket in queue and returns its id.
func (s *RTServer) CreateTicket(t testing.TB, queue, subject string, priority int, requestor string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"Queue": queue, "Subject": subject, "Priority": priority, "Content": "created by the test"}
	if requestor != "" {
		body["Requestor"] = requestor
	}
	s.Do(t, http.MethodPost, "/ticket", body, &out)
	if out.ID == "" {
		t.Fatalf("creating a ticket in %s returned no id", queue)
	}
	return out.ID
}

// ID is an RT id: REST2 sends ids as strings in collections and as
// numbers in single objects.
type ID string

// UnmarshalJSON accepts a string or a number.
func (i *ID) UnmarshalJSON(b []byte) error {
	*i = ID(strings.Trim(string(b), `"`))
	return nil
}

// RTTicket is what GET /ticket/{id} says about a ticket, in part.
type RTTicket struct {
	ID     ID     `json:"id"`
	Status string `json:"Status"`
	Queue  struct {
		ID ID `json:"id"`
	} `json:"Queue"`
	Owner struct {
		ID ID `json:"id"`
	} `json:"Owner"`
}

// Ticket reads one ticket.
func (s *RTServer) Ticket(t testing.TB, id string) RTTicket {
	t.Helper()
	var out RTTicket
	s.Do(t, http.MethodGet, "/ticket/"+url.PathEscape(id), nil, &out)
	return out
}

// QueueID returns the id of the queue called name.
func (s *RTServer) QueueID(t testing.TB, name string) ID {
	t.Helper()
	var out struct {
		ID ID `json:"id"`
	}
	s.Do(t, http.MethodGet, "/queue/"+url.PathEscape(name), nil, &out)
	return out.ID
}

// RTTransaction is one entry of a ticket's history.
type RTTransaction struct {
	Type     string `json:"Type"`
	Field    string `json:"Field"`
	OldValue string `json:"OldValue"`
	NewValue ID     `json:"NewValue"`
	Content  string `json:"-"`
	ID       ID     `json:"id"`
}

// History returns a ticket's transactions, oldest first, with the text of
// each Comment transaction in Content.
func (s *RTServer) History(t testing.TB, id string) []RTTransaction {
	t.Helper()
	var out struct {
		Items []RTTransaction `json:"items"`
	}
	s.Do(t, http.MethodGet, "/ticket/"+url.PathEscape(id)+"/history?per_page=100&fields=Type,Field,OldValue,NewValue", nil, &out)
	for i := range out.Items {
		if out.Items[i].Type != "Comment" {
			continue
		}
		var atts struct {
			Items []struct {
				Content     string `json:"Content"`
				ContentType string `json:"ContentType"`
			} `json:"items"`
		}
		s.Do(t, http.MethodGet, "/transaction/"+string(out.Items[i].ID)+"/attachments?fields=Content,ContentType", nil, &atts)
		for _, a := range atts.Items {
			if strings.HasPrefix(a.ContentType, "text/plain") {
				// REST2 sends attachment content base64-encoded.
				out.Items[i].Content += decodeBase64(a.Content)
			}
		}
	}
	return out.Items
}

func decodeBase64(s string) string {
	if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s)); err == nil {
		return string(b)
	}
	return s
}
