package runtime_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model/cache"
	"sitroom/sources/runtime/bintest"
	"sitroom/sources/sourcetest"
	"sitroom/ui/uitest"
)

func TestMain(m *testing.M) { os.Exit(bintest.Main(m)) }

const plantedSecret = "pl4nted-s3cret-9f2c"

func TestCheckProbesEachSourceAndHidesSecrets(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	dead := sourcetest.StartAlertmanager(t)
	dead.Stop()
	cfg := writeConfig(t, fmt.Sprintf(`
sources:
  - name: am-up
    type: alertmanager
    url: %s
    basic_auth: {username: noc, password: %s}
  - {name: am-dead, type: alertmanager, url: %s}
`, am.URL, plantedSecret, dead.URL))
	code, out, errOut := bintest.Run(t, "check", "--config", cfg, "--log-file", filepath.Join(t.TempDir(), "log"))
	assert.Equal(t, 1, code, out+errOut)
	assert.Regexp(t, `(?m)^ok +am-up +alertmanager +`+am.URL+` +0 alerts in`, out)
	assert.Regexp(t, `(?m)^FAIL +am-dead +alertmanager +`+dead.URL+` +connection refused`, out)
	assert.Contains(t, out, "config ok: 2 sources, 0 services")
	assert.Contains(t, out, "1 of 2 sources failed")
	assert.NotContains(t, out+errOut, plantedSecret)
}

func TestCheckNamesTheBadKey(t *testing.T) {
	cfg := writeConfig(t, "sources:\n  - name: a\n    type: alertmanager\n    url: http://127.0.0.1:1\n    basic_auth: {usernme: x}\n")
	code, out, errOut := bintest.Run(t, "check", "--config", cfg)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "sources[0].basic_auth.usernme")
	assert.Empty(t, out)
}

func TestCheckMissingConfigSaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	code, _, errOut := bintest.Run(t, "check", "--config", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no config file at "+path)
	assert.Contains(t, errOut, "sitroom --demo")
}

// poll --once writes what the Alertmanager holds into a 0600 cache file.
func TestPollOnceFillsTheCache(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DiskFull", "severity": "critical", "service": "storage"}})
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: am, type: alertmanager, url: %s}\n", am.URL))
	db := filepath.Join(t.TempDir(), "state", "cache.db")
	code, out, errOut := bintest.Run(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", filepath.Join(t.TempDir(), "log"))
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "polled 1 source: 1 outage, 1 firing", "counts read as a NOC reads them: 1 outage, never 1 outages")
	fi, err := os.Stat(db)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	c, err := cache.Open(db)
	require.NoError(t, err)
	defer c.Close()
	rows, statuses, err := c.Load()
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "DiskFull", rows[0].Labels.Get("alertname"))
	require.Len(t, statuses, 1)
	assert.Empty(t, statuses[0].LastError)
}

// The whole app on a simulation screen against a real Alertmanager: an
// alert posted appears within one poll; when the Alertmanager stops, its
// chip says it is down and the rows stay on screen, marked stale.
func TestScenarioRealAlertmanagerUpThenDown(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: am-eu, type: alertmanager, url: %s, interval: 1s}\nservices:\n  - {name: checkout, match: ['service=\"checkout\"'], owner: team-web}\n", am.URL))
	h := liveDashboard(t, cfg)
	am.PostAlerts(t, sourcetest.PostableAlert{
		Labels:      map[string]string{"alertname": "CheckoutErrors", "severity": "critical", "service": "checkout"},
		Annotations: map[string]string{"summary": "checkout 5xx above 5%"},
	})
	waitScreen(t, h, 10*time.Second, "the posted alert", func(text string) bool {
		return strings.Contains(text, "CheckoutErrors") && strings.Contains(text, "checkout 5xx above 5%")
	})
	text := strings.Join(h.Text(), "\n")
	assert.Regexp(t, `CRIT +checkout`, text, "the outage row")
	assert.Regexp(t, `am-eu ok`, text)

	am.Stop()
	waitScreen(t, h, 15*time.Second, "am-eu down and stale rows", func(text string) bool {
		return strings.Contains(text, "am-eu down") && strings.Contains(text, "STALE")
	})
	text = strings.Join(h.Text(), "\n")
	assert.Contains(t, text, "CheckoutErrors", "rows stay while the source is down")
	assert.Contains(t, text, "last good")
}

func waitScreen(t *testing.T, h *uitest.Harness, timeout time.Duration, what string, ok func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		text := strings.Join(h.Text(), "\n")
		if ok(text) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen never showed %s within %s; screen:\n%s", what, timeout, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCheckWarnsAboutAMissingRunbooksDir(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	cfg := writeConfig(t, fmt.Sprintf("runbooks_dir: no-such-dir\nsources:\n  - {name: am, type: alertmanager, url: %s}\n", am.URL))
	code, out, errOut := bintest.Run(t, "check", "--config", cfg, "--log-file", filepath.Join(t.TempDir(), "log"))
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "warning: runbooks_dir "+filepath.Join(filepath.Dir(cfg), "no-such-dir")+" is not a directory")
}

// check lists the catalog's runbooks that are missing, unreadable (a
// directory) or modified locally in their git work tree, and counts the
// local ones; a committed, unchanged runbook and a web page are not
// listed, and none of it fails the check.
func TestCheckListsProblemRunbooks(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	am := sourcetest.StartAlertmanager(t)
	dir := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command(git, append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "GIT_AUTHOR_NAME=Dana Ops", "GIT_AUTHOR_EMAIL=dana@example.org",
			"GIT_COMMITTER_NAME=Dana Ops", "GIT_COMMITTER_EMAIL=dana@example.org")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	run("init", "-q", "-b", "main")
	for _, f := range []string{"checkout.md", "db-main.md"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("# "+f+"\n"), 0o644))
	}
	run("add", ".")
	run("commit", "-q", "-m", "runbooks")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "db-main.md"), []byte("# edited on the console\n"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "search.md"), 0o755))
	cfg := writeConfig(t, fmt.Sprintf(`runbooks_dir: %s
runbooks_url: https://git.example/noc/runbooks/blob/main/
sources:
  - {name: am, type: alertmanager, url: %s}
services:
  - {name: checkout, match: ['service="checkout"'], runbook: %s}
  - {name: db-main, match: ['service="db-main"'], runbook: https://git.example/noc/runbooks/blob/main/db-main.md#steps}
  - {name: payments, match: ['service="payments"'], runbook: %s}
  - {name: search, match: ['service="search"'], runbook: %s}
  - {name: web, match: ['service="web"'], runbook: https://wiki.example/web}
`, dir, am.URL, filepath.Join(dir, "checkout.md"), filepath.Join(dir, "payments.md"), filepath.Join(dir, "search.md")))
	code, out, errOut := bintest.Run(t, "check", "--config", cfg, "--log-file", filepath.Join(t.TempDir(), "log"))
	assert.Equal(t, 0, code, out+errOut)
	assert.Regexp(t, `(?m)^warning: runbook `+regexp.QuoteMeta(filepath.Join(dir, "db-main.md"))+` \(db-main\): modified locally: uncommitted changes since [0-9a-f]{7,}$`, out)
	assert.Contains(t, out, "warning: runbook "+filepath.Join(dir, "payments.md")+" (payments): missing\n")
	assert.Contains(t, out, "warning: runbook "+filepath.Join(dir, "search.md")+" (search): unreadable: a directory, not a file\n")
	assert.NotContains(t, out, "checkout.md")
	assert.NotContains(t, out, "wiki.example")
	assert.Contains(t, out, "runbooks: 4 local runbooks looked at, 3 problems\n")
}
