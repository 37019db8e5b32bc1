package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/teamstore"
	"sitroom/model/teamstore/pgtest"
	"sitroom/sources/runtime"
)

// teamInitConfig writes a config with one (fake) Alertmanager, three
// escalation levels (the third for leads only) and the team store at url,
// its password in passwordFile ("" for none).
func teamInitConfig(t *testing.T, url, passwordFile string) string {
	t.Helper()
	am, _ := fixedAlertmanager(t)
	team := fmt.Sprintf("team: {postgres: '%s'}\n", url)
	if passwordFile != "" {
		team = fmt.Sprintf("team: {postgres: '%s', password_file: '%s'}\n", url, passwordFile)
	}
	return writeConfig(t, "sources:\n  - {name: am, type: alertmanager, url: '"+am.URL+"'}\n"+
		"escalation:\n"+
		"  - {level: 1, who: noc}\n"+
		"  - {level: 2, who: owners, min_role: tier2}\n"+
		"  - {level: 3, who: commander, min_role: lead}\n"+team)
}

// ownerConn connects to url as the store's owner, with its password.
func ownerConn(ctx context.Context, url, password string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.Password = password
	return pgx.ConnectConfig(ctx, cfg)
}

// teamInit runs `sitroom team init` in the process, as main does.
func teamInit(t *testing.T, cfg string, ti runtime.TeamInitOptions) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	o := runtime.Options{ConfigPath: cfg, LogFile: filepath.Join(t.TempDir(), "log")}
	code := runtime.TeamInit(ctx, o, ti, &out, &errb)
	return code, out.String(), errb.String()
}

// checkTeamStore runs `sitroom check` (with --audit when audit) in the
// process, as main does.
func checkTeamStore(t *testing.T, cfg string, audit bool) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	dir := t.TempDir()
	o := runtime.Options{ConfigPath: cfg, DBPath: filepath.Join(dir, "cache.db"), LogFile: filepath.Join(dir, "log"), Audit: audit}
	code := runtime.Check(ctx, o, &out, &errb)
	return code, out.String() + errb.String()
}

// An administrator sets the team store up with `sitroom team init`: it
// says what it made, writes the config's escalation levels with their
// min_role as group roles, and says how to add an operator; run again it
// changes nothing. The admin password never shows, and a URL holding one
// is refused before anything is tried.
func TestTeamInitTwice(t *testing.T) {
	srv := pgtest.Start(t)
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "no-pgpass"))
	ctx := context.Background()
	require.NoError(t, srv.Super(ctx, "postgres", "ALTER ROLE "+pgtest.Role+" CREATEROLE"))
	cfg := teamInitConfig(t, srv.URL, srv.PasswordFile)
	ti := runtime.TeamInitOptions{AdminURL: srv.URL, AdminPasswordFile: srv.PasswordFile}

	code, out, errOut := teamInit(t, cfg, ti)
	require.Equal(t, 0, code, out+errOut)
	assert.NotContains(t, out+errOut, srv.Password())
	assert.Regexp(t, fmt.Sprintf(`(?m)^%s: schema %d, \d+ changes:$`, regexp.QuoteMeta(srv.URL[:strings.Index(srv.URL, "?")]),
		teamstore.SchemaVersion), out)
	for _, want := range []string{"created role sitroom_viewer", "created role sitroom_lead", "applied schema version"} {
		assert.Contains(t, out, want)
	}
	assert.Contains(t, out, "  CREATE ROLE ops1 LOGIN IN ROLE sitroom_tier1;      -- tier1; sitroom_viewer, sitroom_tier2, sitroom_lead for the others\n")
	assert.Contains(t, out, "CN=ops1")
	assert.Contains(t, out, "~ops1/.pgpass")

	// The levels as the server now enforces them.
	var levels []string
	c, err := ownerConn(ctx, srv.URL, srv.Password())
	require.NoError(t, err)
	rows, err := c.Query(ctx, "SELECT level || '=' || min_role FROM escalation_levels ORDER BY level")
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		levels = append(levels, s)
	}
	require.NoError(t, rows.Err())
	c.Close(ctx)
	assert.Equal(t, []string{"1=sitroom_tier1", "2=sitroom_tier2", "3=sitroom_lead"}, levels)

	code, out2, errOut := teamInit(t, cfg, ti)
	require.Equal(t, 0, code, out2+errOut)
	assert.Regexp(t, fmt.Sprintf(`(?m)^\S+: nothing to change: schema %d, roles and policies in place$`, teamstore.SchemaVersion), out2)
	assert.NotContains(t, out2, "created")
	assert.Contains(t, out2, "CREATE ROLE ops1 LOGIN IN ROLE sitroom_tier1;")

	t.Run("role names from the config", func(t *testing.T) {
		url := srv.Database(t)
		cfg := writeConfig(t, "sources:\n  - {name: am, type: alertmanager, url: 'http://127.0.0.1:1'}\n"+
			"escalation:\n  - {level: 1, who: noc, min_role: tier2}\n"+
			"team: {postgres: '"+url+"', roles: {viewer: noc_ro, tier1: noc_t1, tier2: noc_t2, lead: noc_lead}}\n")
		code, out, errOut := teamInit(t, cfg, runtime.TeamInitOptions{AdminURL: url, AdminPasswordFile: srv.PasswordFile})
		require.Equal(t, 0, code, out+errOut)
		assert.Contains(t, out, "created role noc_t1\n")
		assert.Contains(t, out, "made noc_t2 a member of noc_t1\n")
		assert.NotContains(t, out, "sitroom_")
		assert.Contains(t, out, "  CREATE ROLE ops1 LOGIN IN ROLE noc_t1;      -- tier1; noc_ro, noc_t2, noc_lead for the others\n")
	})
	t.Run("wrong password", func(t *testing.T) {
		const wrong = "wr0ng-adm1n-pw-91c2"
		code, out, errOut := teamInit(t, cfg, runtime.TeamInitOptions{AdminURL: srv.URL, AdminPasswordFile: writeSecretFile(t, wrong)})
		assert.Equal(t, 1, code)
		assert.Empty(t, out)
		assert.Contains(t, errOut, `password authentication failed for user "sitroom" (see --admin-password-file, PGPASSWORD, ~/.pgpass)`)
		assert.NotContains(t, errOut, wrong)
	})
	t.Run("password in the URL", func(t *testing.T) {
		url := strings.Replace(srv.URL, "//"+pgtest.Role+"@", "//"+pgtest.Role+":"+srv.Password()+"@", 1)
		code, out, errOut := teamInit(t, cfg, runtime.TeamInitOptions{AdminURL: url})
		assert.Equal(t, 1, code)
		assert.Empty(t, out)
		assert.Contains(t, errOut, "the URL holds a password: put it in a file named by --admin-password-file")
		assert.NotContains(t, errOut, srv.Password())
	})
	t.Run("no admin URL", func(t *testing.T) {
		code, _, errOut := teamInit(t, cfg, runtime.TeamInitOptions{})
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "--admin-url: required")
	})
}

// Through TLS with a certificate per operator: `sitroom check` as ops1
// says identities are enforced and ops1 is tier1; ops2 cannot write an
// action as ops1 (the server refuses it); `check --audit` finds the log
// intact, then names the row the owner altered and fails. Connected as
// the schema's owner, check warns that identities are not enforced.
func TestCheckAuditWithOperatorCertificates(t *testing.T) {
	srv := pgtest.StartTLS(t)
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "no-pgpass"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := srv.NewDatabase(t)
	require.NoError(t, srv.Super(ctx, "postgres", "ALTER ROLE "+pgtest.Role+" CREATEROLE"))
	ownerURL := srv.URL(pgtest.Role, db)
	code, out, errOut := teamInit(t, teamInitConfig(t, ownerURL, srv.PasswordFile),
		runtime.TeamInitOptions{AdminURL: ownerURL, AdminPasswordFile: srv.PasswordFile})
	require.Equal(t, 0, code, out+errOut)
	require.NoError(t, srv.Super(ctx, "postgres",
		"CREATE ROLE ops1 LOGIN IN ROLE sitroom_tier1", "CREATE ROLE ops2 LOGIN IN ROLE sitroom_tier1",
		"CREATE ROLE watcher LOGIN IN ROLE sitroom_viewer"))
	srv.ClientCert(t, "ops1")
	srv.ClientCert(t, "ops2")
	srv.ClientCert(t, "watcher")

	code, out = checkTeamStore(t, teamInitConfig(t, srv.URL("ops1", db), ""), false)
	require.Equal(t, 0, code, out)
	assert.Regexp(t, `(?m)^ok +team +postgres +\S+ +PostgreSQL \d+\.\d+, schema \d+, as ops1 on `+db+` \(can write\)$`, out)
	assert.Regexp(t, `(?m)^ +team: identities enforced: ops1 is tier1$`, out)
	assert.NotContains(t, out, "not enforced")

	code, out = checkTeamStore(t, teamInitConfig(t, srv.URL("watcher", db), ""), false)
	assert.Equal(t, 0, code, out)
	assert.Regexp(t, `(?m)^ok +team +postgres +.* as watcher on `+db+` \(read-only: viewer\)$`, out)
	assert.Regexp(t, `(?m)^ +team: identities enforced: watcher is viewer$`, out)

	// ops1 writes two notes; ops2 tries one in ops1's name.
	open := func(user string) *teamstore.Store {
		st, err := teamstore.Open(ctx, teamstore.Options{URL: srv.URL(user, db), Host: "noc-" + user})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return st
	}
	note := func(uid, operator, text string) model.Action {
		return model.Action{AuditEntry: model.AuditEntry{UID: uid, At: time.Now().Add(-time.Minute), Operator: operator,
			Role: model.RoleTier1, Host: "noc-" + operator, Verb: model.VerbNote, Service: "checkout", Target: "checkout",
			Comment: text, State: model.ActionDelivered}}
	}
	ops1, ops2 := open("ops1"), open("ops2")
	_, err := ops1.Push(ctx, note("note-a", "ops1", "rolled back the deploy"), note("note-b", "ops1", "db failover done"))
	require.NoError(t, err)
	_, err = ops2.Push(ctx, note("note-forged", "ops1", "nothing to see"))
	var refused *teamstore.RefusedError
	require.True(t, errors.As(err, &refused), "ops2 writing as ops1: %v, want the server's refusal", err)
	assert.Equal(t, "note-forged", refused.UID)

	// With psql and their own certificates, the viewer cannot add to the
	// audit log and ops1 cannot change or remove a row of it.
	if psql, err := exec.LookPath("psql"); err == nil {
		for _, c := range []struct{ user, sql string }{
			{"watcher", "INSERT INTO audit (uid) VALUES ('from-psql')"},
			{"ops1", "UPDATE audit SET comment = 'all fine' WHERE uid = 'note-b'"},
			{"ops1", "DELETE FROM audit WHERE uid = 'note-b'"},
		} {
			cmd := exec.CommandContext(ctx, psql, srv.URL(c.user, db), "-XAtc", c.sql)
			cmd.Env = append(os.Environ(), "PGPASSWORD=", "PGPASSFILE=/nonexistent")
			out, err := cmd.CombinedOutput()
			assert.Error(t, err, "%s: %s", c.user, c.sql)
			assert.Contains(t, string(out), "permission denied for table audit", "%s: %s", c.user, c.sql)
		}
	}

	auditCfg := teamInitConfig(t, srv.URL("ops1", db), "")
	code, out = checkTeamStore(t, auditCfg, true)
	require.Equal(t, 0, code, out)
	assert.Regexp(t, `(?m)^ok +audit +2 rows, hash chain intact$`, out)
	assert.NotContains(t, out, "note-forged")

	// The owner rewrites history: the chain breaks at that row.
	var seq int64
	c, err := ownerConn(ctx, ownerURL, srv.Password())
	require.NoError(t, err)
	require.NoError(t, c.QueryRow(ctx, "SELECT seq FROM audit WHERE uid = 'note-a'").Scan(&seq))
	c.Close(ctx)
	require.NoError(t, srv.Super(ctx, db, "UPDATE audit SET comment = 'all fine' WHERE uid = 'note-a'"))
	code, out = checkTeamStore(t, auditCfg, true)
	assert.Equal(t, 1, code, out)
	assert.Regexp(t, fmt.Sprintf(`(?m)^FAIL +audit +row %d \(uid note-a\) altered or removed: \S.*$`, seq), out)

	// Revoked, ops2's console may no longer write, and check says why.
	require.NoError(t, srv.Super(ctx, "postgres", "REVOKE sitroom_tier1 FROM ops2"))
	code, out = checkTeamStore(t, teamInitConfig(t, srv.URL("ops2", db), ""), false)
	assert.Equal(t, 1, code, out)
	// Whether the store lets it connect (and check finds it in no group) or
	// refuses it at once, check says what to do.
	assert.Regexp(t, `(?m)^FAIL +team +postgres +\S+ +(permission denied for table \w+ \(SQLSTATE 42501\)|connected as ops2, which cannot write the team store \(.*\))$`, out)
	assert.Regexp(t, `(?m)^ +team: ops2 is in none of the team's roles \(sitroom_viewer, sitroom_tier1, sitroom_tier2, sitroom_lead\), or was revoked: GRANT sitroom_tier1 TO ops2, as the admin$`, out)

	// The lab setup: the owner's URL works, with a warning.
	code, out = checkTeamStore(t, teamInitConfig(t, ownerURL, srv.PasswordFile), false)
	assert.Equal(t, 0, code, out)
	assert.Regexp(t, `(?m)^warning: team: identities not enforced: \S.*; any console on this URL may act as anyone`, out)
	assert.NotContains(t, out, srv.Password())
}
