package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model/teamstore"
	"sitroom/model/teamstore/pgtest"
	"sitroom/sources/runtime/bintest"
)

// teamCheckConfig writes a config with one (fake) Alertmanager and the
// team store at url, its password in passwordFile ("" for none).
func teamCheckConfig(t *testing.T, url, passwordFile string) string {
	t.Helper()
	am, _ := fixedAlertmanager(t)
	team := fmt.Sprintf("team: {postgres: '%s'}\n", url)
	if passwordFile != "" {
		team = fmt.Sprintf("team: {postgres: '%s', password_file: '%s'}\n", url, passwordFile)
	}
	return writeConfig(t, "sources:\n  - {name: am, type: alertmanager, url: '"+am.URL+"'}\n"+team)
}

// sitroom check against a real PostgreSQL: one line for the team store
// after the sources, with the server and schema versions and whether the
// role can write; a refused password, a role that may only read and a
// server that is gone each fail it in words. No password, right or
// wrong, ever reaches the output.
func TestCheckTeamStore(t *testing.T) {
	srv := pgtest.Start(t)
	// Only the password file, or the environment a subtest sets, may
	// supply a password.
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "no-pgpass"))
	logf := filepath.Join(t.TempDir(), "log")
	check := func(t *testing.T, cfg string) (int, string) {
		t.Helper()
		code, out, errOut := bintest.Run(t, "check", "--config", cfg, "--log-file", logf)
		all := out + errOut
		assert.NotContains(t, all, srv.Password(), "the password in check's output")
		if log, err := os.ReadFile(logf); err == nil {
			assert.NotContains(t, string(log), srv.Password(), "the password in the log")
		}
		return code, all
	}
	failLine := `(?m)^FAIL +team +postgres +` + regexp.QuoteMeta(srv.URL) + ` +`

	t.Run("ok", func(t *testing.T) {
		code, out := check(t, teamCheckConfig(t, srv.URL, srv.PasswordFile))
		require.Equal(t, 0, code, out)
		assert.Regexp(t, `(?m)^ok +am +alertmanager +\S+ +2 alerts in`, out)
		assert.Regexp(t, fmt.Sprintf(`(?m)^ok +team +postgres +%s +PostgreSQL \d+\.\d+, schema %d, as %s on %s \(can write\)$`,
			regexp.QuoteMeta(srv.URL), teamstore.SchemaVersion, pgtest.Role, pgtest.Database), out)
		assert.Less(t, strings.Index(out, "ok    am "), strings.Index(out, "ok    team "), "the team store comes after the sources")
	})

	t.Run("password from PGPASSWORD", func(t *testing.T) {
		t.Setenv("PGPASSWORD", srv.Password())
		code, out := check(t, teamCheckConfig(t, srv.URL, ""))
		require.Equal(t, 0, code, out)
		assert.Regexp(t, `(?m)^ok +team +postgres .*\(can write\)$`, out)
	})

	t.Run("wrong password", func(t *testing.T) {
		const wrong = "wr0ng-pa55word-7c1d"
		pw := writeSecretFile(t, wrong+"\n")
		code, out := check(t, teamCheckConfig(t, srv.URL, pw))
		assert.Equal(t, 1, code, out)
		assert.Regexp(t, failLine+`password authentication failed for user "sitroom" \(see team.password_file, PGPASSWORD, ~/.pgpass\)$`, out)
		assert.NotContains(t, out, wrong)
		assert.Regexp(t, `(?m)^ok +am +alertmanager`, out, "the sources are still checked")

		t.Setenv("PGPASSWORD", wrong)
		code, out = check(t, teamCheckConfig(t, srv.URL, ""))
		assert.Equal(t, 1, code, out)
		assert.Regexp(t, failLine+`password authentication failed for user "sitroom"`, out)
		assert.NotContains(t, out, wrong)
	})

	t.Run("read-only role", func(t *testing.T) {
		ctx := context.Background()
		require.NoError(t, srv.Super(ctx, pgtest.Database,
			"CREATE ROLE reader LOGIN PASSWORD 'r3ader-pw-5e1f'",
			"GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader"))
		t.Cleanup(func() {
			_ = srv.Super(context.Background(), pgtest.Database, "DROP OWNED BY reader")
			_ = srv.Super(context.Background(), "postgres", "DROP ROLE reader")
		})
		pw := writeSecretFile(t, "r3ader-pw-5e1f")
		url := strings.Replace(srv.URL, "//"+pgtest.Role+"@", "//reader@", 1)
		code, out := check(t, teamCheckConfig(t, url, pw))
		assert.Equal(t, 1, code, out)
		assert.Regexp(t, `(?m)^FAIL +team +postgres +`+regexp.QuoteMeta(url)+
			` +connected as reader, which cannot write the team store \(PostgreSQL \d+\.\d+, schema \d+, as reader on noc\)$`, out)
		assert.NotContains(t, out, "r3ader-pw-5e1f")
	})

	t.Run("server down", func(t *testing.T) {
		srv.Stop()
		code, out := check(t, teamCheckConfig(t, srv.URL, srv.PasswordFile))
		assert.Equal(t, 1, code, out)
		assert.Regexp(t, failLine+`connection refused: no PostgreSQL is listening there$`, out)
	})
}
