// Package sourcetest starts the real upstream servers installed on the
// machine (Prometheus, Alertmanager) for tests: each on a free loopback
// port, with its storage in the test's temp dir, stopped when the test
// ends. It is imported by tests only.
//
// A test that needs a server binary skips when the binary is missing,
// unless SITROOM_REQUIRE_INTEGRATION is set, in which case it fails and
// names the Debian package to install.
package sourcetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Paths of the server binaries from the Debian packages.
const (
	PrometheusBinary   = "/usr/bin/prometheus"
	AlertmanagerBinary = "/usr/bin/prometheus-alertmanager"
)

// RequireEnv is the environment variable that turns a missing server
// binary from a skip into a failure.
const RequireEnv = "SITROOM_REQUIRE_INTEGRATION"

// debianPackage names the package that provides each binary.
var debianPackage = map[string]string{
	"prometheus":              "prometheus",
	"prometheus-alertmanager": "prometheus-alertmanager",
	"amtool":                  "prometheus-alertmanager",
	"promtool":                "prometheus",
	"aiosmtpd":                "python3-aiosmtpd",
}

// RequireBinary returns the path of the server binary name (a base name
// looked up in /usr/bin then PATH, or an absolute path). When it is
// missing the test is skipped, or fails when SITROOM_REQUIRE_INTEGRATION
// is set.
func RequireBinary(t testing.TB, name string) string {
	t.Helper()
	base := filepath.Base(name)
	candidates := []string{name}
	if !filepath.IsAbs(name) {
		candidates = []string{filepath.Join("/usr/bin", name)}
		if p, err := exec.LookPath(name); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, p := range candidates {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	pkg := debianPackage[base]
	if pkg == "" {
		pkg = base
	}
	hint := fmt.Sprintf("%s not found; install it with: apt-get install -y --no-install-recommends %s", name, pkg)
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s (%s is set, so integration tests may not skip)", hint, RequireEnv)
	}
	t.Skip(hint)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is a running server process.
type Server struct {
	// URL is the base URL, e.g. "http://127.0.0.1:41234".
	URL string
	// Dir is the server's own directory (config, storage, log).
	Dir string
	// LogPath is the file receiving the server's stdout and stderr.
	LogPath string

	name     string
	bin      string
	args     []string // as run, the port filled in
	cmd      *exec.Cmd
	done     chan struct{} // closed when the process has exited
	stopOnce *sync.Once
}

// Stop ends the server: SIGTERM, then SIGKILL if it has not exited after
// a few seconds; it returns once the process is gone. It is idempotent and
// may be called mid-test to simulate an outage.
func (s *Server) Stop() {
	if s.stopOnce == nil {
		return
	}
	s.stopOnce.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// LogTail returns the last n bytes of the server's log.
func (s *Server) LogTail(n int) string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// start runs bin with args (args may contain "{port}", replaced by a free
// port; retried on another port when the first is taken meanwhile) and
// waits until GET {URL}/-/ready answers 200.
func start(t testing.TB, name, bin, dir string, args []string) *Server {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		real := make([]string, len(args))
		for i, a := range args {
			real[i] = strings.ReplaceAll(a, "{port}", fmt.Sprint(port))
		}
		s := &Server{URL: url, Dir: dir, name: name, bin: bin, args: real}
		s.launch(t, fmt.Sprintf("%s-%d.log", name, attempt))
		t.Cleanup(s.Stop)
		lastErr = waitReady(s, 20*time.Second)
		if lastErr == nil {
			return s
		}
		s.Stop()
		if !strings.Contains(s.LogTail(4096), "address already in use") {
			break
		}
	}
	t.Fatalf("%s did not become ready: %v", name, lastErr)
	return nil
}

// launch runs the server's process, its output in the log file named
// logName in its directory.
func (s *Server) launch(t testing.TB, logName string) {
	t.Helper()
	s.LogPath = filepath.Join(s.Dir, logName)
	logf, err := os.Create(s.LogPath)
	if err != nil {
		t.Fatalf("creating %s: %v", s.LogPath, err)
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting %s: %v", s.bin, err)
	}
	done := make(chan struct{})
	s.cmd, s.done, s.stopOnce = cmd, done, new(sync.Once)
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
}

// RestartWithoutData stops the server, removes its storage (the data
// folder in its directory: an Alertmanager's silences and alerts) and
// starts it again on the same port, as a server that lost its state does;
// it returns once the server is ready.
func (s *Server) RestartWithoutData(t testing.TB) {
	t.Helper()
	s.Stop()
	if err := os.RemoveAll(filepath.Join(s.Dir, "data")); err != nil {
		t.Fatal(err)
	}
	s.launch(t, s.name+"-restarted.log")
	if err := waitReady(s, 20*time.Second); err != nil {
		t.Fatalf("%s did not become ready after a restart: %v", s.name, err)
	}
}

func waitReady(s *Server, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("%s exited early; log tail:\n%s", s.name, s.LogTail(2048))
		default:
		}
		resp, err := client.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s; log tail:\n%s", timeout, s.LogTail(2048))
}

// DefaultAlertmanagerConfig routes everything to a receiver that does
// nothing, grouping after 1s.
const DefaultAlertmanagerConfig = `route:
  receiver: "null"
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: "null"
`

// AMOption changes how StartAlertmanager runs the server.
type AMOption func(*amOptions)

type amOptions struct {
	config  string
	args    []string
	cluster []string // the cluster flags; clustering off when empty
}

// WithAlertmanagerConfig replaces DefaultAlertmanagerConfig.
func WithAlertmanagerConfig(yaml string) AMOption {
	return func(o *amOptions) { o.config = yaml }
}

// WithAlertmanagerArgs adds command-line flags.
func WithAlertmanagerArgs(args ...string) AMOption {
	return func(o *amOptions) { o.args = append(o.args, args...) }
}

// StartAlertmanager starts /usr/bin/prometheus-alertmanager on a free
// loopback port with clustering off, the null receiver config, storage in
// a temp dir and --web.external-url set to its own URL, and waits until it
// is ready. It is stopped when the test ends.
func StartAlertmanager(t testing.TB, opts ...AMOption) *Server {
	t.Helper()
	bin := RequireBinary(t, filepath.Base(AlertmanagerBinary))
	o := amOptions{config: DefaultAlertmanagerConfig}
	for _, f := range opts {
		f(&o)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(o.config), 0o600); err != nil {
		t.Fatal(err)
	}
	cluster := o.cluster
	if len(cluster) == 0 {
		cluster = []string{"--cluster.listen-address="}
	}
	args := append(append([]string{
		"--config.file=" + cfg,
		"--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:{port}",
		"--web.external-url=http://127.0.0.1:{port}",
		"--log.level=warn",
	}, cluster...), o.args...)
	return start(t, "alertmanager", bin, dir, args)
}

// PostableAlert is an alert as POST /api/v2/alerts takes it. Zero times
// are left out (the Alertmanager then uses now and now+resolve_timeout).
type PostableAlert struct {
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
}

// MarshalJSON writes the wire form.
func (a PostableAlert) MarshalJSON() ([]byte, error) {
	m := map[string]any{"labels": a.Labels}
	if len(a.Annotations) > 0 {
		m["annotations"] = a.Annotations
	}
	if !a.StartsAt.IsZero() {
		m["startsAt"] = a.StartsAt.UTC().Format(time.RFC3339Nano)
	}
	if !a.EndsAt.IsZero() {
		m["endsAt"] = a.EndsAt.UTC().Format(time.RFC3339Nano)
	}
	if a.GeneratorURL != "" {
		m["generatorURL"] = a.GeneratorURL
	}
	return json.Marshal(m)
}

// PostAlerts sends alerts to the Alertmanager with POST /api/v2/alerts
// and fails the test unless it answers 200.
func (s *Server) PostAlerts(t testing.TB, alerts ...PostableAlert) {
	t.Helper()
	s.post(t, "/api/v2/alerts", alerts, nil)
}

// Matcher is one matcher of a silence.
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

// CreateSilence creates a silence lasting d with equality matchers on the
// given labels (POST /api/v2/silences) and returns its ID.
func (s *Server) CreateSilence(t testing.TB, labels map[string]string, d time.Duration, createdBy, comment string) string {
	t.Helper()
	var ms []Matcher
	for k, v := range labels {
		ms = append(ms, Matcher{Name: k, Value: v, IsEqual: true})
	}
	now := time.Now().UTC()
	body := map[string]any{
		"matchers":  ms,
		"startsAt":  now.Format(time.RFC3339Nano),
		"endsAt":    now.Add(d).Format(time.RFC3339Nano),
		"createdBy": createdBy,
		"comment":   comment,
	}
	var out struct {
		SilenceID string `json:"silenceID"`
	}
	s.post(t, "/api/v2/silences", body, &out)
	if out.SilenceID == "" {
		t.Fatalf("POST /api/v2/silences returned no silenceID")
	}
	return out.SilenceID
}

func (s *Server) post(t testing.TB, path string, body, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s: %s", path, resp.Status, rb)
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			t.Fatalf("POST %s: decoding reply %q: %v", path, rb, err)
		}
	}
}

// Get fetches path from the server and returns the body, failing the test
// unless the answer is 200. For capturing payloads in tests.
func (s *Server) Get(t testing.TB, path string) []byte {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	return b
}

// PromOptions describe a Prometheus server for StartPrometheusWith.
type PromOptions struct {
	// RuleFiles are rule files to load (made absolute).
	RuleFiles []string
	// AlertmanagerURLs are Alertmanagers to send alerts to, as
	// "http://host:port", or "http://host:port/prefix" for one served
	// under a path.
	AlertmanagerURLs []string
	// ExternalLabels are added to alerts sent to Alertmanagers (but not
	// shown by Prometheus' own /api/v1/alerts).
	ExternalLabels map[string]string
	// AlertRelabelConfigs are the alerting section's
	// alert_relabel_configs, each a relabel_config as YAML keys and
	// values (e.g. {"action": "labeldrop", "regex": "replica"}).
	AlertRelabelConfigs []map[string]any
}

// StartPrometheus starts /usr/bin/prometheus on a free loopback port with
// the rule files, evaluating every second and (re)sending alerts to the
// Alertmanagers every second, storage in a temp dir, --web.external-url
// set to its own URL and the lifecycle API on (Reload), and waits until
// it is ready. It is stopped when the
// test ends.
func StartPrometheus(t testing.TB, ruleFiles []string, alertmanagerURLs ...string) *Server {
	t.Helper()
	return StartPrometheusWith(t, PromOptions{RuleFiles: ruleFiles, AlertmanagerURLs: alertmanagerURLs})
}

// StartPrometheusWith is StartPrometheus with every option.
func StartPrometheusWith(t testing.TB, o PromOptions) *Server {
	t.Helper()
	bin := RequireBinary(t, filepath.Base(PrometheusBinary))
	dir := t.TempDir()
	var rules []string
	for _, f := range o.RuleFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, abs)
	}
	// One alertmanagers entry per path prefix (an Alertmanager served
	// under a path: "http://host:port/am").
	var ams []any
	byPrefix := map[string]int{}
	for _, u := range o.AlertmanagerURLs {
		target := strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
		prefix := ""
		if i := strings.IndexByte(target, '/'); i >= 0 {
			target, prefix = target[:i], strings.TrimRight(target[i:], "/")
		}
		i, ok := byPrefix[prefix]
		if !ok {
			i = len(ams)
			byPrefix[prefix] = i
			am := map[string]any{"api_version": "v2", "static_configs": []any{map[string]any{"targets": []string{}}}}
			if prefix != "" {
				am["path_prefix"] = prefix
			}
			ams = append(ams, am)
		}
		sc := ams[i].(map[string]any)["static_configs"].([]any)[0].(map[string]any)
		sc["targets"] = append(sc["targets"].([]string), target)
	}
	cfg := map[string]any{
		"global": map[string]any{
			"evaluation_interval": "1s",
			"scrape_interval":     "1s",
		},
		"rule_files": rules,
	}
	if len(o.ExternalLabels) > 0 {
		cfg["global"].(map[string]any)["external_labels"] = o.ExternalLabels
	}
	if len(ams) > 0 {
		cfg["alerting"] = map[string]any{"alertmanagers": ams}
	}
	if len(o.AlertRelabelConfigs) > 0 {
		if cfg["alerting"] == nil {
			cfg["alerting"] = map[string]any{}
		}
		cfg["alerting"].(map[string]any)["alert_relabel_configs"] = o.AlertRelabelConfigs
	}
	// JSON is valid YAML.
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, "prometheus", bin, dir, []string{
		"--config.file=" + path,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:{port}",
		"--web.external-url=http://127.0.0.1:{port}",
		"--rules.alert.resend-delay=1s",
		"--web.enable-lifecycle", // for Reload
		"--log.level=warn",
	})
}

// Reload makes a Prometheus started by StartPrometheus read its config
// and rule files again (POST /-/reload) and returns the server's error
// when the reload failed (Prometheus answers 500 and keeps running the
// config it had: /api/v1/status/runtimeinfo then says
// reloadConfigSuccess false). It fails the test when the server cannot
// be reached.
func (s *Server) Reload(t testing.TB) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/-/reload", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /-/reload: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /-/reload: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// Eventually calls check every interval until it returns nil or timeout
// passes, then fails the test with check's last error.
func Eventually(t testing.TB, timeout, interval time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for {
		if err = check(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(interval)
	}
	t.Fatalf("condition not met after %s: %v", timeout, err)
}
