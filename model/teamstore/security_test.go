package teamstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/teamstore"
	"sitroom/model/teamstore/pgtest"
)

// levels are the escalation policy the secured stores are set up with:
// level 1 for anyone who may act, level 2 for tier2 and up.
var levels = []teamstore.Level{{Level: 1, MinRole: model.RoleNone}, {Level: 2, MinRole: model.RoleTier2}}

// secured returns a fresh database set up by Init, run by its owner
// (given CREATEROLE: the administrator of a small team), and the
// server.
func secured(t *testing.T) (*pgtest.Server, string) {
	t.Helper()
	srv, url := fresh(t)
	ctx := context.Background()
	require.NoError(t, srv.Super(ctx, "postgres", "ALTER ROLE "+pgtest.Role+" CREATEROLE"))
	_, err := teamstore.Init(ctx, url, teamstore.InitOptions{Levels: levels, PasswordFile: srv.PasswordFile})
	require.NoError(t, err)
	return srv, url
}

// operator is a login role of the team, with its own store and password.
type operator struct {
	name, url, pw string
	store         *teamstore.Store
}

// login creates a login role named after base in the given groups and
// opens the store as it.
func login(t *testing.T, srv *pgtest.Server, dbURL, base string, groups ...string) operator {
	t.Helper()
	o := operator{name: pgtest.UniqueName(base)}
	o.url, o.pw = srv.AddRole(t, dbURL, o.name, groups...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := teamstore.Open(ctx, teamstore.Options{URL: o.url, PasswordFile: o.pw, Host: "noc-" + base})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	o.store = s
	return o
}

// raw connects as o without the store: what psql would do.
func (o operator) raw(t *testing.T) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(o.url)
	require.NoError(t, err)
	pw, err := os.ReadFile(o.pw)
	require.NoError(t, err)
	cfg.Password = strings.TrimSpace(string(pw))
	c, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// by is a as made by name with role.
func by(a model.Action, name string, role model.Role) model.Action {
	a.Operator, a.Role = name, role
	return a
}

// refusedBy asserts err is the server's refusal (42501).
func refusedBy(t *testing.T, err error, what string) {
	t.Helper()
	var pe *pgconn.PgError
	require.Error(t, err, what)
	require.True(t, errors.As(err, &pe), "%s: %v", what, err)
	assert.Equal(t, "42501", pe.Code, "%s: %v", what, err)
}

// uids lists the actions the store holds, read as the owner.
func uids(t *testing.T, s *teamstore.Store) []string {
	t.Helper()
	var out []string
	for _, a := range changes(t, s, 0).Actions {
		out = append(out, a.UID)
	}
	return out
}

// Init run again with the same options changes nothing; with another
// escalation policy it rewrites the levels and says so.
func TestInitIsIdempotent(t *testing.T) {
	srv, url := fresh(t)
	ctx := context.Background()
	require.NoError(t, srv.Super(ctx, "postgres", "ALTER ROLE "+pgtest.Role+" CREATEROLE"))
	opt := teamstore.InitOptions{Levels: levels, PasswordFile: srv.PasswordFile}
	first, err := teamstore.Init(ctx, url, opt)
	require.NoError(t, err)
	assert.Equal(t, teamstore.SchemaVersion, first.SchemaVersion)
	assert.Contains(t, first.Changed, "applied schema version 4")
	assert.Contains(t, first.Changed, "set the privileges and policies of table audit")
	assert.Contains(t, first.Changed, "escalation level 2 needs sitroom_tier2")

	again, err := teamstore.Init(ctx, url, opt)
	require.NoError(t, err)
	assert.Empty(t, again.Changed, "a second init changes nothing")
	assert.Equal(t, teamstore.SchemaVersion, again.SchemaVersion)

	// A grant made by hand is taken back, and said.
	require.NoError(t, srv.Super(ctx, pgtest.DBName(url), "GRANT UPDATE ON audit TO sitroom_lead"))
	fixed, err := teamstore.Init(ctx, url, opt)
	require.NoError(t, err)
	assert.Equal(t, []string{"set the privileges and policies of table audit"}, fixed.Changed)

	opt.Levels = []teamstore.Level{{Level: 1, MinRole: model.RoleNone}, {Level: 2, MinRole: model.RoleLead}}
	moved, err := teamstore.Init(ctx, url, opt)
	require.NoError(t, err)
	assert.Equal(t, []string{"escalation level 2 needs sitroom_lead"}, moved.Changed)

	// An admin that may create roles but does not own the tables is told.
	admin := pgtest.UniqueName("admin")
	adminURL, adminPW := srv.AddRole(t, url, admin)
	require.NoError(t, srv.Super(ctx, "postgres", "ALTER ROLE "+admin+" CREATEROLE"))
	_, err = teamstore.Init(ctx, adminURL, teamstore.InitOptions{Levels: levels, PasswordFile: adminPW})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the admin role must own the store's tables, or be a superuser")
}

// An operator acts as themselves: an action, or an ack, recorded as
// another is refused by the server, and the push names the action.
func TestOperatorCannotActAsAnother(t *testing.T) {
	srv, url := secured(t)
	owner := open(t, srv, url, "owner")
	ops1 := login(t, srv, url, "ops1", "sitroom_tier1")
	ops2 := login(t, srv, url, "ops2", "sitroom_tier1")
	ctx := context.Background()

	_, err := ops1.store.Sync(ctx, team(by(ack("u-mine", "db", t0), ops1.name, model.RoleTier1)))
	require.NoError(t, err, "ops1 acts as ops1")

	n, err := ops1.store.Sync(ctx, team(by(ack("u-forged", "db", t0.Add(time.Minute)), ops2.name, model.RoleTier1)),
		team(by(note("u-after", "db", t0.Add(2*time.Minute), "after"), ops1.name, model.RoleTier1)))
	var refused *teamstore.RefusedError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, 0, n)
	assert.Equal(t, "u-forged", refused.UID)
	assert.Equal(t, ops1.name+" cannot record an action as "+ops2.name, refused.Reason)
	assert.Contains(t, err.Error(), "refused action u-forged")
	assert.Equal(t, []string{"u-mine"}, uids(t, owner), "nothing of the forged action is recorded")

	// The rest goes through once the caller skips the refused one.
	_, err = ops1.store.Sync(ctx, team(by(note("u-after", "db", t0.Add(2*time.Minute), "after"), ops1.name, model.RoleTier1)))
	require.NoError(t, err)

	// Claiming a role the login does not hold is refused too.
	_, err = ops1.store.Push(ctx, by(note("u-lead", "db", t0.Add(3*time.Minute), "as lead"), ops1.name, model.RoleLead))
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, ops1.name+" does not hold role lead in the team store", refused.Reason)

	// With psql: an ack as another, on ops1's own audit row.
	c := ops1.raw(t)
	_, err = c.Exec(ctx, `INSERT INTO acks(uid, service, alert_keys, operator, at, until, comment, seq)
		VALUES ('u-mine2', 'db', '{}', $1, now(), now(), 'x', 0)`, ops2.name)
	refusedBy(t, err, "an ack as another")
	_, err = c.Exec(ctx, `INSERT INTO audit(uid, at, operator, role, host, ssh_client, verb, service, target, comment, seq)
		VALUES ('u-raw', now(), $1, 'tier1', 'h', '', 'note', 'db', 'db', 'x', 0)`, ops2.name)
	refusedBy(t, err, "an audit row as another")

	// The server stamps who sent a row and when, whatever the client says.
	_, err = c.Exec(ctx, `INSERT INTO audit(uid, at, operator, role, host, ssh_client, verb, service, target, comment, seq,
		stamped_by, stamped_at) VALUES ('u-stamp', '2020-01-01', $1, 'tier1', 'h', '', 'note', 'db', 'db', 'x', 0, $2, '2000-01-01')`,
		ops1.name, ops2.name)
	require.NoError(t, err)
	var stampedBy string
	var stampedAt time.Time
	require.NoError(t, c.QueryRow(ctx, `SELECT stamped_by, stamped_at FROM audit WHERE uid = 'u-stamp'`).Scan(&stampedBy, &stampedAt))
	assert.Equal(t, ops1.name, stampedBy)
	assert.WithinDuration(t, time.Now(), stampedAt, time.Hour, "the server's time, not the client's")
}

// A viewer's connection inserts no action, through the store or with
// psql, yet still contributes what its console sees.
func TestViewerInsertsNothing(t *testing.T) {
	srv, url := secured(t)
	owner := open(t, srv, url, "owner")
	viewer := login(t, srv, url, "view", "sitroom_viewer")
	ctx := context.Background()

	for _, a := range []model.Action{ack("v-ack", "db", t0), note("v-note", "db", t0, "hi"), escalate("v-esc", "db", t0, 1)} {
		_, err := viewer.store.Sync(ctx, team(by(a, viewer.name, model.RoleViewer)))
		var refused *teamstore.RefusedError
		require.ErrorAs(t, err, &refused, a.Verb)
		assert.Equal(t, a.UID, refused.UID)
		assert.Contains(t, refused.Reason, viewer.name+" may not record this action (permission denied for table audit)")
	}
	assert.Empty(t, uids(t, owner))

	why, err := viewer.store.May(ctx, model.VerbNote, 0)
	require.NoError(t, err)
	assert.Equal(t, "role viewer cannot act in the team store ("+viewer.name+" is a member of sitroom_viewer only)", why)

	o1 := ack("o-1", "db", t0, silence("am", "k1"))
	_, err = owner.Push(ctx, o1)
	require.NoError(t, err)
	// A viewer's copy of the team's action, further on than the store's:
	// left to those who may write it, and no refusal of the action.
	o1.Deliveries[0].State = model.ActionDelivered
	n, err := viewer.store.Sync(ctx, team(o1))
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	assert.Equal(t, model.ActionPending, changes(t, owner, 0).Actions[0].State)
	c := viewer.raw(t)
	for what, q := range map[string]string{
		"insert audit": `INSERT INTO audit(uid, at, operator, role, host, ssh_client, verb, service, target, comment, seq)
			VALUES ('v-raw', now(), current_user, 'viewer', 'h', '', 'note', 'db', 'db', 'x', 0)`,
		"update audit":        `UPDATE audit SET comment = 'x'`,
		"delete audit":        `DELETE FROM audit`,
		"insert note":         `INSERT INTO notes(uid, service, operator, at, text, seq) VALUES ('o-1', 'db', current_user, now(), 'x', 0)`,
		"update action_state": `UPDATE action_state SET state = 'failed'`,
		"update deliveries":   `UPDATE deliveries SET state = 'failed'`,
		"take the lease":      `INSERT INTO team_lease(name, holder, expires_at, seq) VALUES ('team', 'v', now(), 0)`,
	} {
		_, err := c.Exec(ctx, q)
		refusedBy(t, err, what)
	}

	// What a viewer console sees is still the team's.
	require.NoError(t, viewer.store.PutStatus(ctx, model.SourceStatus{Name: "prom", Type: "prometheus", LastAttempt: t0}))
	require.NoError(t, viewer.store.PushViews(ctx, 7, []model.OutageRecord{{ID: 1, Service: "db", Severity: model.SevCritical,
		Opened: t0, FirstSeen: t0, Alerts: 1}}, nil))
	ch, _, err := owner.Changes(ctx, 0)
	require.NoError(t, err)
	require.Len(t, ch.Statuses, 1)
	assert.Equal(t, "noc-view", ch.Statuses[0].Host)
	held, err := viewer.store.TryLease(ctx, "noc-view", time.Minute)
	require.NoError(t, err, "a viewer never holds the lease, without an error")
	assert.False(t, held)
}

// No operator role may change or remove an audit row.
func TestAuditAppendOnlyForEveryRole(t *testing.T) {
	srv, url := secured(t)
	ctx := context.Background()
	for _, group := range []string{"sitroom_viewer", "sitroom_tier1", "sitroom_tier2", "sitroom_lead"} {
		o := login(t, srv, url, strings.TrimPrefix(group, "sitroom_"), group)
		role, _ := model.ParseRole(strings.TrimPrefix(group, "sitroom_"))
		if role >= model.RoleTier1 {
			_, err := o.store.Sync(ctx, team(by(note("n-"+o.name, "db", t0, "mine"), o.name, role)))
			require.NoError(t, err, group)
		}
		c := o.raw(t)
		for _, q := range []string{
			`UPDATE audit SET comment = 'rewritten'`,
			`UPDATE audit SET comment = 'rewritten' WHERE operator = current_user`,
			`DELETE FROM audit WHERE operator = current_user`,
			`TRUNCATE audit CASCADE`,
		} {
			_, err := c.Exec(ctx, q)
			refusedBy(t, err, group+": "+q)
		}
	}
	owner := open(t, srv, url, "owner")
	log, err := owner.AuditLog(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, log, 3)
	for _, e := range log {
		assert.Equal(t, "mine", e.Comment)
	}
}

// An escalation above the operator's min_role is refused by the server
// when the client's check is bypassed (the store called directly), and
// May says so first.
func TestEscalationAboveMinRoleRefused(t *testing.T) {
	srv, url := secured(t)
	ops1 := login(t, srv, url, "ops1", "sitroom_tier1")
	boss := login(t, srv, url, "boss", "sitroom_tier2")
	owner := open(t, srv, url, "owner")
	ctx := context.Background()

	why, err := ops1.store.May(ctx, model.VerbEscalate, 2)
	require.NoError(t, err)
	assert.Equal(t, "role tier1 cannot escalate to level 2 (the team store requires sitroom_tier2)", why)
	why, err = ops1.store.May(ctx, model.VerbEscalate, 1)
	require.NoError(t, err)
	assert.Empty(t, why)
	why, err = ops1.store.May(ctx, model.VerbEscalate, 9)
	require.NoError(t, err)
	assert.Contains(t, why, "no escalation level 9")
	why, err = boss.store.May(ctx, model.VerbEscalate, 2)
	require.NoError(t, err)
	assert.Empty(t, why)

	_, err = ops1.store.Sync(ctx, team(by(escalate("e-2", "db", t0, 2, webhook("http://pager")), ops1.name, model.RoleTier1)))
	var refused *teamstore.RefusedError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, "e-2", refused.UID)
	assert.Equal(t, ops1.name+" cannot escalate to level 2 (the team store requires sitroom_tier2)", refused.Reason)
	_, err = ops1.store.Sync(ctx, team(by(escalate("e-9", "db", t0, 9), ops1.name, model.RoleTier1)))
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, "the team store has no escalation level 9", refused.Reason)
	assert.Empty(t, uids(t, owner), "neither the audit row nor the delivery of a refused escalation is kept")

	_, err = ops1.store.Sync(ctx, team(by(escalate("e-1", "db", t0, 1), ops1.name, model.RoleTier1)))
	require.NoError(t, err)
	_, err = boss.store.Sync(ctx, team(by(escalate("e-2b", "db", t0.Add(time.Minute), 2), boss.name, model.RoleTier2)))
	require.NoError(t, err)
	assert.Equal(t, []string{"e-1", "e-2b"}, uids(t, owner))
}

// The hash chain holds over an honest log and breaks at a row the owner
// altered, or after one it removed.
func TestVerifyAuditFindsAlteredRow(t *testing.T) {
	srv, url := secured(t)
	ops1 := login(t, srv, url, "ops1", "sitroom_tier1")
	owner := open(t, srv, url, "owner")
	ctx := context.Background()
	for i, uid := range []string{"a1", "a2", "a3", "a4"} {
		_, err := ops1.store.Sync(ctx, team(by(note(uid, "db", t0.Add(time.Duration(i)*time.Minute), "text "+uid), ops1.name, model.RoleTier1)))
		require.NoError(t, err)
	}
	_, err := owner.Push(ctx, ack("a5", "db", t0.Add(time.Hour))) // the lab's way: not enforced, still chained
	require.NoError(t, err)

	check, err := ops1.store.VerifyAudit(ctx)
	require.NoError(t, err)
	assert.Equal(t, teamstore.AuditCheck{Rows: 5, OK: true}, check)

	var seq int64
	db := pgtest.DBName(url)
	c := operator{url: url, pw: srv.PasswordFile}.raw(t) // the owner, with psql
	require.NoError(t, c.QueryRow(ctx, `UPDATE audit SET comment = 'nothing happened' WHERE uid = 'a2' RETURNING seq`).Scan(&seq))
	check, err = owner.VerifyAudit(ctx)
	require.NoError(t, err)
	assert.False(t, check.OK)
	assert.Equal(t, 5, check.Rows)
	assert.Equal(t, seq, check.BrokenSeq)
	assert.Equal(t, "a2", check.BrokenUID)
	assert.Contains(t, check.Why, "altered")

	// Put back, the chain holds again; a row removed breaks it after.
	_, err = c.Exec(ctx, `UPDATE audit SET comment = 'text a2' WHERE uid = 'a2'`)
	require.NoError(t, err)
	check, err = owner.VerifyAudit(ctx)
	require.NoError(t, err)
	assert.True(t, check.OK, check.Why)
	require.NoError(t, srv.Super(ctx, db, `DELETE FROM notes WHERE uid = 'a3'`, `DELETE FROM action_state WHERE uid = 'a3'`,
		`DELETE FROM audit WHERE uid = 'a3'`))
	check, err = owner.VerifyAudit(ctx)
	require.NoError(t, err)
	assert.False(t, check.OK)
	assert.Equal(t, "a4", check.BrokenUID)
	assert.Contains(t, check.Why, "removed")
}

// Identity is the login PostgreSQL authenticated and its membership;
// the owner and a superuser are not held by the policies, and say why.
func TestIdentity(t *testing.T) {
	srv, url := secured(t)
	ops1 := login(t, srv, url, "ops1", "sitroom_tier1")
	lead := login(t, srv, url, "lead", "sitroom_lead")
	stranger := login(t, srv, url, "stranger")
	ctx := context.Background()

	id, err := ops1.store.Identity(ctx)
	require.NoError(t, err)
	assert.Equal(t, teamstore.Identity{User: ops1.name, Role: model.RoleTier1, Operator: true, Enforced: true}, id)
	id, err = lead.store.Identity(ctx)
	require.NoError(t, err)
	assert.Equal(t, model.RoleLead, id.Role, "the highest group of the chain")

	id, err = stranger.store.Identity(ctx)
	require.NoError(t, err)
	assert.Equal(t, teamstore.Identity{User: stranger.name, Enforced: true}, id)
	why, err := stranger.store.May(ctx, model.VerbAck, 0)
	require.NoError(t, err)
	assert.Contains(t, why, stranger.name+" is not a member of the team's roles")

	id, err = open(t, srv, url, "owner").Identity(ctx)
	require.NoError(t, err)
	assert.False(t, id.Enforced)
	assert.Equal(t, pgtest.Role, id.User)
	assert.Equal(t, "connected as the schema's owner (sitroom): the store's policies do not hold it", id.Why)

	super, err := teamstore.Open(ctx, teamstore.Options{URL: srv.SuperURL(pgtest.DBName(url))})
	require.NoError(t, err)
	defer super.Close()
	id, err = super.Identity(ctx)
	require.NoError(t, err)
	assert.False(t, id.Enforced)
	assert.Contains(t, id.Why, "a superuser")
	why, err = super.May(ctx, model.VerbEscalate, 2)
	require.NoError(t, err)
	assert.Empty(t, why, "the policies do not hold a superuser")

	// A lab store, never set up: the owner, and not enforced for that.
	_, labURL := fresh(t)
	id, err = open(t, srv, labURL, "lab").Identity(ctx)
	require.NoError(t, err)
	assert.False(t, id.Enforced)
	assert.Contains(t, id.Why, "schema's owner")
}

// A console whose role may not migrate finds the schema behind and is
// told to run team init; the owner's console migrates (the lab setup).
func TestOpenOlderSchemaAsOperator(t *testing.T) {
	srv, url := secured(t)
	name := pgtest.UniqueName("ops1")
	opsURL, pw := srv.AddRole(t, url, name, "sitroom_tier1")
	ctx := context.Background()
	require.NoError(t, srv.Super(ctx, pgtest.DBName(url), fmt.Sprintf("DELETE FROM schema_version WHERE version = %d", teamstore.SchemaVersion)))
	_, err := teamstore.Open(ctx, teamstore.Options{URL: opsURL, PasswordFile: pw})
	require.ErrorIs(t, err, teamstore.ErrOlderSchema)
	assert.Contains(t, err.Error(), "the team store's schema is older than this sitroom: run sitroom team init --admin-url")
}

// A lab store of schema 3, with actions, upgrades on its owner's Open:
// each action keeps its state, and the rows made before are chained.
func TestUpgradeFromSchema3(t *testing.T) {
	srv, url := fresh(t)
	ctx := context.Background()
	require.NoError(t, teamstore.ApplyVersions(ctx, teamstore.Options{URL: url, PasswordFile: srv.PasswordFile}, 3))
	require.NoError(t, srv.Super(ctx, pgtest.DBName(url),
		`INSERT INTO audit(uid, at, operator, role, host, ssh_client, verb, service, target, comment, upstream, state, reason)
		VALUES ('old1', '2026-12-01 10:00+00', 'alice', 'tier1', 'noc1', '', 'ack', 'db', 'db', 'looking', 'sil-1', 'delivered', ''),
		('old2', '2026-12-01 11:00+00', 'bob', 'tier1', 'noc2', '', 'escalate', 'db', 'db', 'paging', '', 'failed', 'HTTP 500')`))
	s := open(t, srv, url, "noc1")
	got := changes(t, s, 0).Actions
	require.Len(t, got, 2)
	assert.Equal(t, model.ActionDelivered, got[0].State)
	assert.Equal(t, "sil-1", got[0].Upstream)
	assert.Equal(t, model.ActionFailed, got[1].State)
	assert.Equal(t, "HTTP 500", got[1].Reason)
	check, err := s.VerifyAudit(ctx)
	require.NoError(t, err)
	assert.Equal(t, teamstore.AuditCheck{Rows: 2, OK: true}, check)
	_, err = s.Push(ctx, ack("new1", "db", t0))
	require.NoError(t, err)
	check, err = s.VerifyAudit(ctx)
	require.NoError(t, err)
	assert.Equal(t, teamstore.AuditCheck{Rows: 3, OK: true}, check, "new rows chain on the old ones")
}

// Everything a tier1 console does in a team — act, merge others' actions
// forward, hold the lease, deliver the outbox, record the history, read
// it all — works under the policies.
func TestTier1ConsoleWorksUnderPolicies(t *testing.T) {
	srv, url := secured(t)
	ops1 := login(t, srv, url, "ops1", "sitroom_tier1")
	ops2 := login(t, srv, url, "ops2", "sitroom_tier2")
	ctx := context.Background()
	s1, s2 := ops1.store, ops2.store

	a := by(ack("t-ack", "db", t0, silence("am", "k1")), ops1.name, model.RoleTier1)
	_, err := s1.Sync(ctx, team(a))
	require.NoError(t, err)
	e := by(escalate("t-esc", "db", t0.Add(time.Minute), 2, webhook("http://pager")), ops2.name, model.RoleTier2)
	_, err = s2.Sync(ctx, team(e))
	require.NoError(t, err)
	_, err = s1.Sync(ctx, team(by(escalate("t-esc1", "db", t0.Add(2*time.Minute), 1), ops1.name, model.RoleTier1)))
	require.NoError(t, err, "a later escalation clears ops2's earlier one")

	// ops2's console merges ops1's ack forward: cleared by ops2's un-ack.
	u := by(unack("t-unack", "db", t0.Add(3*time.Minute)), ops2.name, model.RoleTier2)
	_, err = s2.Sync(ctx, team(u))
	require.NoError(t, err)

	// ops1 holds the lease and delivers everyone's outbox.
	held, err := s1.TryLease(ctx, "noc-ops1", time.Minute)
	require.NoError(t, err)
	require.True(t, held)
	require.NoError(t, srv.Super(ctx, pgtest.DBName(url), `UPDATE deliveries SET next_at = now() - interval '1 second'`))
	ds, err := s1.ClaimDeliveries(ctx, "noc-ops1", 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	for _, d := range ds {
		d.State, d.Ref = model.ActionDelivered, "ref-"+d.ActionUID
		require.NoError(t, s1.FinishDelivery(ctx, d))
	}
	require.NoError(t, s1.EndAck(ctx, "t-ack", "resolved", t0.Add(4*time.Minute)))
	id, err := s1.OpenOutage(ctx, model.OutageRecord{Service: "db", Severity: model.SevWarning, Opened: t0, FirstSeen: t0, Alerts: 1})
	require.NoError(t, err)
	require.NoError(t, s1.UpdateOutage(ctx, id, model.SevCritical, 3, t0.Add(-time.Minute)))
	require.NoError(t, s1.CloseOutage(ctx, id, t0.Add(time.Hour), true))
	require.NoError(t, s1.ReopenOutage(ctx, id))
	sid, err := s1.SourceDown(ctx, "prom", t0, "refused")
	require.NoError(t, err)
	_, err = s1.SourceDown(ctx, "prom", t0, "refused")
	require.NoError(t, err)
	require.NoError(t, s1.SourceUp(ctx, sid, t0.Add(time.Minute)))
	require.NoError(t, s1.RecordBacklog(ctx, []model.BacklogSample{{At: t0, Source: "desk", Tier: "tier1", Open: 3}}))
	require.NoError(t, s1.RecordBacklog(ctx, []model.BacklogSample{{At: t0, Source: "desk", Tier: "tier1", Open: 4}}))
	require.NoError(t, s1.PutStatus(ctx, model.SourceStatus{Name: "prom", Type: "prometheus", LastAttempt: t0}))
	require.NoError(t, s1.Release(ctx, "noc-ops1"))

	got := changes(t, s2, 0).Actions
	require.Len(t, got, 4)
	byUID := map[string]model.TeamAction{}
	for _, g := range got {
		byUID[g.UID] = g
	}
	assert.Equal(t, model.ActionDelivered, byUID["t-ack"].State)
	assert.Equal(t, "ref-t-ack", byUID["t-ack"].Upstream)
	assert.Equal(t, ops2.name, byUID["t-ack"].ClearedBy, "ops2's un-ack cleared ops1's ack")
	assert.False(t, byUID["t-esc"].ClearedAt.IsZero(), "superseded by ops1's escalation")
	assert.Equal(t, model.ActionDelivered, byUID["t-esc"].State)
	h, err := s2.History(ctx, t0.Add(-time.Hour), t0.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Len(t, h.Audit, 4)
	require.Len(t, h.Outages, 1)
	assert.Equal(t, model.SevCritical, h.Outages[0].Severity)
	log, err := s1.AuditLog(ctx, time.Time{})
	require.NoError(t, err)
	assert.Len(t, log, 4)
	check, err := s1.VerifyAudit(ctx)
	require.NoError(t, err)
	assert.True(t, check.OK, check.Why)
}

// BenchmarkPushOperator is BenchmarkPush by an operator's login, under
// the grants and policies (BenchmarkPush runs as the owner).
func BenchmarkPushOperator(b *testing.B) {
	srv := pgtest.Shared(b)
	url := srv.Database(b)
	ctx := context.Background()
	if err := srv.Super(ctx, "postgres", "ALTER ROLE "+pgtest.Role+" CREATEROLE"); err != nil {
		b.Fatal(err)
	}
	if _, err := teamstore.Init(ctx, url, teamstore.InitOptions{Levels: levels, PasswordFile: srv.PasswordFile}); err != nil {
		b.Fatal(err)
	}
	name := pgtest.UniqueName("bench")
	opsURL, pw := srv.AddRole(b, url, name, "sitroom_tier1")
	s, err := teamstore.Open(ctx, teamstore.Options{URL: opsURL, PasswordFile: pw})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	i := 0
	for b.Loop() {
		i++
		a := by(ack(fmt.Sprintf("u%d", i), fmt.Sprintf("svc%d", i%50), t0, silence("am1", "k1"), silence("am2", "k1")), name, model.RoleTier1)
		if _, err := s.Push(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAudit checks the chain of a 5,000-row audit log.
func BenchmarkVerifyAudit(b *testing.B) {
	srv := pgtest.Shared(b)
	url := srv.Database(b)
	ctx := context.Background()
	s, err := teamstore.Open(ctx, teamstore.Options{URL: url, PasswordFile: srv.PasswordFile})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := srv.Super(ctx, pgtest.DBName(url), `INSERT INTO audit(uid, at, operator, role, host, ssh_client, verb, service,
		target, comment) SELECT 'u' || i, now(), 'alice', 'tier1', 'noc1', '', 'note', 'svc', 'svc', repeat('x', 80)
		FROM generate_series(1, 5000) i`); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		c, err := s.VerifyAudit(ctx)
		if err != nil || !c.OK || c.Rows != 5000 {
			b.Fatalf("%+v %v", c, err)
		}
	}
}
