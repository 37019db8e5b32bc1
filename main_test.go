package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model/cache"
	"sitroom/sources/sourcetest"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// The import rules of ARCHITECTURE.md: the UI never reaches the sources or
// the cache, the model never reaches I/O packages, the cache never reaches
// sources or UI, sources never reach the UI.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Deps " "}}:{{join .Imports " "}}`, "./...").CombinedOutput()
	require.NoError(t, err, string(out))
	forbidden := map[string][]string{
		"sitroom/model":        {"sitroom/", "database/sql", "net/http", "github.com/rivo/tview", "github.com/gdamore/tcell"},
		"sitroom/model/config": {"sitroom/sources", "sitroom/ui", "sitroom/model/cache", "database/sql", "github.com/rivo/tview"},
		"sitroom/model/cache":  {"sitroom/sources", "sitroom/ui", "sitroom/model/config", "net/http", "github.com/rivo/tview"},
		"sitroom/sources":      {"sitroom/ui", "github.com/rivo/tview", "github.com/gdamore/tcell"},
		"sitroom/ui":           {"sitroom/sources", "sitroom/model/cache", "sitroom/model/config", "database/sql", "net/http"},
	}
	allowed := map[string]bool{"sitroom/model": true} // model/* may import model itself
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, rest, _ := strings.Cut(line, ":")
		deps, imports, _ := strings.Cut(rest, ":")
		for prefix, bans := range forbidden {
			if pkg != prefix && !strings.HasPrefix(pkg, prefix+"/") {
				continue
			}
			if strings.HasSuffix(pkg, "test") && prefix != pkg { // sourcetest, uitest: test helpers
				continue
			}
			if prefix == "sitroom/model" && pkg != prefix {
				continue // sub-packages have their own rule
			}
			checked++
			// Project packages are banned transitively; libraries and the
			// standard library's I/O packages as direct imports.
			for _, dep := range append(strings.Fields(deps), strings.Fields(imports)...) {
				for _, ban := range bans {
					direct := strings.Contains(" "+imports+" ", " "+dep+" ")
					if !strings.HasPrefix(ban, "sitroom/") && !direct {
						continue
					}
					if (dep == ban || strings.HasPrefix(dep, ban)) && !allowed[dep] {
						t.Errorf("%s imports %s (rule: %s must not reach %s)", pkg, dep, prefix, ban)
					}
				}
			}
		}
	}
	assert.GreaterOrEqual(t, checked, 6, "the rule must see the packages it guards")
}

// Every key of the binding table is in README's key list.
func TestReadmeListsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	for _, k := range ui.KeyHelp(false) {
		row := fmt.Sprintf("| %s | `%s` | %s |", k[0], k[1], k[2])
		assert.True(t, strings.Contains(string(readme), row), "README's key list (from ui.KeyHelp) lacks the row %s", row)
	}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

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
	code, out, errOut := runCmd(t, "check", "--config", cfg, "--log-file", filepath.Join(t.TempDir(), "log"))
	assert.Equal(t, 1, code, out+errOut)
	assert.Regexp(t, `(?m)^ok +am-up +alertmanager +`+am.URL+` +0 alerts in`, out)
	assert.Regexp(t, `(?m)^FAIL +am-dead +alertmanager +`+dead.URL+` +connection refused`, out)
	assert.Contains(t, out, "1 of 2 sources failed")
	assert.NotContains(t, out+errOut, plantedSecret)
}

func TestCheckNamesTheBadKey(t *testing.T) {
	cfg := writeConfig(t, "sources:\n  - name: a\n    type: alertmanager\n    url: http://127.0.0.1:1\n    basic_auth: {usernme: x}\n")
	code, out, errOut := runCmd(t, "check", "--config", cfg)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "sources[0].basic_auth.usernme")
	assert.Empty(t, out)
}

func TestCheckMissingConfigSaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	code, _, errOut := runCmd(t, "check", "--config", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no config file at "+path)
	assert.Contains(t, errOut, "sitroom --demo")
}

func TestVersionAndUsage(t *testing.T) {
	code, out, _ := runCmd(t, "version")
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "sitroom "), out)
	code, _, errOut := runCmd(t, "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)
	assert.Contains(t, errOut, "sitroom check")
	code, _, errOut = runCmd(t, "poll", "extra")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unexpected argument "extra"`)
}

// poll --once writes what the Alertmanager holds into a 0600 cache file.
func TestPollOnceFillsTheCache(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	am.PostAlerts(t, sourcetest.PostableAlert{Labels: map[string]string{"alertname": "DiskFull", "severity": "critical", "service": "storage"}})
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: am, type: alertmanager, url: %s}\n", am.URL))
	db := filepath.Join(t.TempDir(), "state", "cache.db")
	code, out, errOut := runCmd(t, "poll", "--once", "--config", cfg, "--db", db, "--log-file", filepath.Join(t.TempDir(), "log"))
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "1 outages, 1 firing")
	fi, err := os.Stat(db)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	c, err := cache.Open(db)
	require.NoError(t, err)
	defer c.Close()
	rows, statuses, err := c.Load()
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "DiskFull", rows[0].Labels["alertname"])
	require.Len(t, statuses, 1)
	assert.Empty(t, statuses[0].LastError)
}

// The whole app on a simulation screen against a real Alertmanager: an
// alert posted appears within one poll; when the Alertmanager stops, its
// chip says it is down and the rows stay on screen, marked stale.
func TestScenarioRealAlertmanagerUpThenDown(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: am-eu, type: alertmanager, url: %s, interval: 1s}\nservices:\n  - {name: checkout, match: ['service=\"checkout\"'], owner: team-web}\n", am.URL))
	dir := t.TempDir()
	g := globalFlags{config: cfg, db: filepath.Join(dir, "cache.db"), logFile: filepath.Join(dir, "log"), logLevel: "debug"}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := newSetup(ctx, g, nil)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { s.poller.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; s.close() })

	h := uitest.Start(t, ui.Options{Feed: s.poller, Operator: "noc1"}, 160, 48)
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
	code, out, errOut := runCmd(t, "check", "--config", cfg, "--log-file", filepath.Join(t.TempDir(), "log"))
	assert.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "warning: runbooks_dir "+filepath.Join(filepath.Dir(cfg), "no-such-dir")+" is not a directory")
}
