package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The import rules of docs/architecture.md: the UI never reaches the
// sources or the cache, the model never reaches I/O packages, the cache
// never reaches sources or UI, sources never reach the UI, and only main
// reaches the runtime. main itself wires layers that build themselves: it
// imports the runtime, the UI and the model, never a source, the cache or
// the demo directly.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Deps " "}}:{{join .Imports " "}}`, "./...").CombinedOutput()
	require.NoError(t, err, string(out))
	forbidden := map[string][]string{
		"sitroom/model":        {"sitroom/", "database/sql", "net/http", "github.com/rivo/tview", "github.com/gdamore/tcell"},
		"sitroom/model/config": {"sitroom/sources", "sitroom/ui", "sitroom/model/cache", "database/sql", "github.com/rivo/tview"},
		"sitroom/model/cache":  {"sitroom/sources", "sitroom/ui", "sitroom/model/config", "net/http", "github.com/rivo/tview"},
		"sitroom/sources":      {"sitroom/ui", "sitroom/sources/runtime", "github.com/rivo/tview", "github.com/gdamore/tcell"},
		"sitroom/ui":           {"sitroom/sources", "sitroom/model/cache", "sitroom/model/config", "database/sql", "net/http"},

		"sitroom/model/teamstore": {"sitroom/sources", "sitroom/ui", "sitroom/model/cache", "sitroom/model/config", "database/sql", "net/http", "github.com/rivo/tview"},
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

	// model's libraries: prometheus/common/model and the two Alertmanager
	// packages that parse matchers (not matcher/compat, which brings
	// Alertmanager's feature flags and logger along).
	modelMay := map[string]bool{"github.com/prometheus/common/model": true,
		"github.com/prometheus/alertmanager/matcher/parse": true, "github.com/prometheus/alertmanager/pkg/labels": true}
	out, err = exec.Command("go", "list", "-f", `{{join .Imports " "}}`, "./model").CombinedOutput()
	require.NoError(t, err, string(out))
	libs := 0
	for _, dep := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(dep, "/")
		if !strings.Contains(first, ".") || strings.HasPrefix(dep, "sitroom/") {
			continue // the standard library; sitroom/ is checked above
		}
		libs++
		if !modelMay[dep] {
			t.Errorf("model imports %s (rule: the standard library, prometheus/common/model, alertmanager's matcher/parse and pkg/labels only)", dep)
		}
	}
	assert.Positive(t, libs, "the rule must see model's libraries")

	mainMay := map[string]bool{"sitroom/model": true, "sitroom/model/config": true, "sitroom/sources/runtime": true,
		"sitroom/sources/actions": true, "sitroom/ui": true}
	out, err = exec.Command("go", "list", "-f", `{{join .Imports " "}}`, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "sitroom/") && !mainMay[dep] {
			t.Errorf("main imports %s: construction belongs in its layer (sources/runtime builds sources, cache and poller)", dep)
		}
	}
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
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

// sitroom team init: in the usage; without a subcommand, or without the
// admin URL, it says what it wants before connecting anywhere.
func TestTeamInitCommandLine(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "sitroom team init --admin-url URL [--admin-password-file FILE] [--config FILE]")
	assert.Contains(t, out, "[--audit]")
	for _, args := range [][]string{{"team"}, {"team", "frob"}} {
		code, _, errOut := runCmd(t, args...)
		assert.Equal(t, 2, code, args)
		assert.Contains(t, errOut, "want: sitroom team init --admin-url URL", args)
	}
	code, _, errOut := runCmd(t, "team", "init", "--admin-url", "")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "sitroom team init: --admin-url: required")
	code, _, errOut = runCmd(t, "team", "init", "--admin-url", "postgres://admin:s3cret-adm1n@db/noc")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "the URL holds a password")
	assert.NotContains(t, errOut, "s3cret-adm1n")
	code, _, errOut = runCmd(t, "team", "init", "extra")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unexpected argument "extra"`)
}

// The wall screen's flags: listed in the usage, a rotation shorter than a
// second refused before anything starts.
func TestKioskFlags(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	assert.Equal(t, 0, code)
	for _, f := range []string{"--kiosk", "-kiosk-rotate", "--mouse"} {
		assert.Contains(t, out, f)
	}
	code, _, errOut := runCmd(t, "--kiosk", "--kiosk-rotate", "200ms")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--kiosk-rotate 200ms is too short")
	code, _, errOut = runCmd(t, "--kiosk-rotate", "soon")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "kiosk-rotate")
}

// sitroom stats: in the usage; a flag it cannot honour exits 2 with a
// message naming it, before any cache is read; an unknown service names
// the known ones.
func TestStatsCommandLine(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "sitroom stats [--since 30d | --from DATE --to DATE]")
	assert.Contains(t, out, "--kiosk-stats")
	cfg := filepath.Join(t.TempDir(), "sitroom.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("services:\n  - {name: db-main, owner: team-data}\n"), 0o600))
	db := filepath.Join(t.TempDir(), "none.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--bucket", "month"}, `--bucket "month": want day or week`},
		{[]string{"--format", "pdf"}, `--format "pdf": want text, md, json, csv or html`},
		{[]string{"--since", "lately"}, `--since "lately": want a duration`},
		{[]string{"--from", "yesterday"}, `--from "yesterday": want a date such as 2026-03-01`},
		{[]string{"--top", "0"}, "--top 0: want at least 1"},
		{[]string{"--service", "ledger"}, `--service "ledger": no such service in the config (known: db-main)`},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		code, _, errOut := runCmd(t, append([]string{"stats", "--config", cfg, "--db", db}, c.args...)...)
		assert.Equal(t, 2, code, c.args)
		assert.Contains(t, errOut, "sitroom stats: "+c.want, c.args)
	}
	code, _, errOut := runCmd(t, "stats", "--config", cfg, "--db", db)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no cache at "+db)
}
