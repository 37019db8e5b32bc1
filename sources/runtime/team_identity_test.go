package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/teamstore"
	"sitroom/model/teamstore/pgtest"
	"sitroom/sources/actions"
)

// identTeam is a team store set up by its administrator (teamstore.Init:
// group roles, grants, policies, level 2 for tier2 and up) with one login
// role per operator, each with a password file of its own.
type identTeam struct {
	pg   *pgtest.Server
	am   string // a fixed Alertmanager every console polls
	pass map[string]string
}

func newIdentTeam(t *testing.T, operators map[string]string) *identTeam {
	t.Helper()
	pg := pgtest.Start(t)
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", filepath.Join(t.TempDir(), "no-pgpass"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, pg.Super(ctx, "postgres", "ALTER ROLE "+pgtest.Role+" CREATEROLE"))
	_, err := teamstore.Init(ctx, pg.URL, teamstore.InitOptions{PasswordFile: pg.PasswordFile, Levels: []teamstore.Level{
		{Level: 1, MinRole: model.RoleTier1}, {Level: 2, MinRole: model.RoleTier2}}})
	require.NoError(t, err)
	am, _ := fixedAlertmanager(t)
	st := &identTeam{pg: pg, am: am.URL, pass: map[string]string{}}
	dir := t.TempDir()
	for user, group := range operators {
		pw := "pw-" + user
		require.NoError(t, pg.Super(ctx, pgtest.Database, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s' IN ROLE %s", user, pw, group)))
		f := filepath.Join(dir, user+".pw")
		require.NoError(t, os.WriteFile(f, []byte(pw+"\n"), 0o600))
		st.pass[user] = f
	}
	return st
}

// config is the config of a console logging in as user. The config's own
// policy lets anyone escalate to level 2 (no min_role) and names the OS
// user a lead: the team store decides.
func (st *identTeam) config(user string) string {
	url := strings.Replace(st.pg.URL, "://"+pgtest.Role+"@", "://"+user+"@", 1)
	return fmt.Sprintf(`sources:
  - {name: am, type: alertmanager, url: '%s', interval: 1s}
services:
  - {name: checkout, match: ['service="checkout"']}
escalation:
  - {level: 1, who: NOC tier 1}
  - {level: 2, who: service owner on-call}
operator_roles: {%s: lead}
team: {postgres: '%s', password_file: '%s'}
`, st.am, identOSUser(), url, st.pass[user])
}

// identOSUser is the OS user running the consoles.
func identOSUser() string { return actions.OSUser() }

// identified waits until c acts as user with role, as the store said.
func identWait(t *testing.T, c *console, user string, role model.Role) {
	t.Helper()
	require.Eventually(t, func() bool {
		tm := boardOf(t, c).Team
		return tm.OK && tm.Verified && tm.User == user && tm.Role == role && tm.Enforced
	}, 30*time.Second, 20*time.Millisecond, "the console acts as %s (%s)", user, role)
	op := c.d.Operator()
	require.Equal(t, user, op.User)
	require.Equal(t, role, op.Role)
}

func identAudit(t *testing.T, c *console, uid string) *model.AuditEntry {
	t.Helper()
	log, err := c.rt.Cache.AuditLog(time.Time{})
	require.NoError(t, err)
	for i := range log {
		if log[i].UID == uid {
			return &log[i]
		}
	}
	return nil
}

func identEscalate(t *testing.T, c *console, level int) model.ActionResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.d.Do(ctx, model.ActionRequest{Verb: model.VerbEscalate, Service: "checkout", Level: level, Comment: "db down"})
	require.NoError(t, err)
	return res
}

func identUID(t *testing.T, c *console, id int64) string {
	t.Helper()
	log, err := c.rt.Cache.AuditLog(time.Time{})
	require.NoError(t, err)
	for _, e := range log {
		if e.ID == id {
			return e.UID
		}
	}
	t.Fatalf("no audit row %d", id)
	return ""
}

// Each console acts as the operator PostgreSQL authenticated, with the
// role their membership gives (not the OS user, not the config's
// operator_roles); the header says who. A viewer's console refuses every
// action and records nothing as done; an escalation above what the store
// allows the operator (level 2 needs tier2 in the store, nothing in the
// config) is refused by the store before anything is recorded as done,
// and shows refused, not escalated, on this console and on another.
func TestTeamIdentityFromTheStore(t *testing.T) {
	team := newIdentTeam(t, map[string]string{"ops1": "sitroom_tier1", "ops2": "sitroom_tier2", "view1": "sitroom_viewer"})
	a, b, v := startConsole(t, team.config("ops1")), startConsole(t, team.config("ops2")), startConsole(t, team.config("view1"))
	identWait(t, a, "ops1", model.RoleTier1)
	identWait(t, b, "ops2", model.RoleTier2)
	identWait(t, v, "view1", model.RoleViewer)
	if os := identOSUser(); os != "ops1" {
		assert.Equal(t, "ops1 (database) as OS user "+os+" · tier1", boardOf(t, a).Team.OperatorLabel())
	}

	// The viewer: refused, audited, nothing in force, nothing in the store.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := v.d.Do(ctx, model.ActionRequest{Verb: model.VerbNote, Comment: "viewer was here"})
	require.NoError(t, err)
	assert.Equal(t, model.ActionRefused, res.State)
	assert.Equal(t, "role viewer cannot write notes", res.Message)
	assert.Empty(t, boardOf(t, v).Notes)

	// ops1 (tier1) to level 2: the config allows it, the store does not.
	res = identEscalate(t, a, 2)
	assert.Equal(t, model.ActionRefused, res.State, res.Message)
	assert.Contains(t, res.Message, "refused by the team store: ")
	assert.Contains(t, res.Message, "level 2")
	assert.Nil(t, boardOf(t, a).Escalations["checkout"], "not escalated")
	refused := identUID(t, a, res.ID)
	// The refusal is the team's record too: B has it, refused, and is not
	// escalated either.
	require.Eventually(t, func() bool { return identAudit(t, b, refused) != nil }, 10*time.Second, 20*time.Millisecond,
		"the refusal reaches B")
	e := identAudit(t, b, refused)
	assert.Equal(t, model.ActionRefused, e.State)
	assert.Equal(t, "ops1", e.Operator)
	assert.Contains(t, e.Reason, "refused by the team store: ")
	assert.Nil(t, boardOf(t, b).Escalations["checkout"])

	// Level 1 is ops1's to make; level 2 ops2's.
	res = identEscalate(t, a, 1)
	require.Equal(t, model.ActionDelivered, res.State, res.Message)
	seenWithin(t, b, "level 1 on B", func(bd *model.Board) bool {
		e := bd.Escalations["checkout"]
		return e != nil && e.Level == 1 && e.By == "ops1"
	})
	res = identEscalate(t, b, 2)
	require.Equal(t, model.ActionDelivered, res.State, res.Message)
	seenWithin(t, a, "level 2 on A", func(bd *model.Board) bool {
		e := bd.Escalations["checkout"]
		return e != nil && e.Level == 2 && e.By == "ops2"
	})

	// ops1 revoked to viewer while the console runs: its next action is
	// refused by the store before anything is recorded as done.
	require.NoError(t, team.pg.Super(ctx, pgtest.Database, "REVOKE sitroom_tier1 FROM ops1", "GRANT sitroom_viewer TO ops1"))
	res, err = a.d.Do(ctx, model.ActionRequest{Verb: model.VerbNote, Comment: "after revoke"})
	require.NoError(t, err)
	assert.Equal(t, model.ActionRefused, res.State)
	assert.Contains(t, res.Message, "refused by the team store: ")
	for _, n := range boardOf(t, a).Notes {
		assert.NotEqual(t, "after revoke", n.Text)
	}
}

// An action made while the store was down, allowed by the console's own
// policy, is refused by the store when pushed: the console marks it
// refused (shown, audited, not in force), never pushes it again, and
// pushes what came after it; the other console never sees it in force,
// and the level it would have superseded stands on both.
func TestTeamRefusedPushDoesNotStopLaterPushes(t *testing.T) {
	team := newIdentTeam(t, map[string]string{"ops1": "sitroom_tier1", "ops2": "sitroom_tier2"})
	a, b := startConsole(t, team.config("ops1")), startConsole(t, team.config("ops2"))
	identWait(t, a, "ops1", model.RoleTier1)
	identWait(t, b, "ops2", model.RoleTier2)
	first := identEscalate(t, a, 1)
	require.Equal(t, model.ActionDelivered, first.State, first.Message)
	seenWithin(t, b, "level 1 on B", func(bd *model.Board) bool { return bd.Escalations["checkout"] != nil })

	team.pg.Kill(t)
	require.Eventually(t, func() bool { return !boardOf(t, a).Team.OK }, 30*time.Second, 20*time.Millisecond, "A finds the store down")
	esc := identEscalate(t, a, 2)
	require.Equal(t, model.ActionDelivered, esc.State, "the console's own policy allows it while the store is down: %s", esc.Message)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	note, err := a.d.Do(ctx, model.ActionRequest{Verb: model.VerbNote, Service: "checkout", Comment: "made after the refused one"})
	require.NoError(t, err)
	require.Equal(t, model.ActionDelivered, note.State)
	team.pg.Restart(t)

	escUID, noteUID := identUID(t, a, esc.ID), identUID(t, a, note.ID)
	require.Eventually(t, func() bool {
		e := identAudit(t, a, escUID)
		return e != nil && e.State == model.ActionRefused
	}, 60*time.Second, 50*time.Millisecond, "A marks the escalation refused")
	e := identAudit(t, a, escUID)
	assert.Contains(t, e.Reason, "refused by the team store: ")
	bd := boardOf(t, a)
	if assert.NotNil(t, bd.Escalations["checkout"], "level 1 stands again on A") {
		assert.Equal(t, 1, bd.Escalations["checkout"].Level, "not escalated to 2 on A")
	}
	assert.Contains(t, bd.Team.Refused, "refused by the team store: ")
	seenWithin(t, b, "the later note on B", func(bd *model.Board) bool {
		for _, n := range bd.Notes {
			if n.Text == "made after the refused one" {
				return true
			}
		}
		return false
	})
	assert.NotNil(t, identAudit(t, b, noteUID))
	assert.Nil(t, identAudit(t, b, escUID), "the refused escalation never reached the store")
	// A's word that the refused escalation superseded level 1 is not
	// taken: level 1 stands on B too (give the catch-up read a moment).
	seenWithin(t, b, "level 1 standing on B", func(bd *model.Board) bool {
		e := bd.Escalations["checkout"]
		return e != nil && e.Level == 1
	})
	require.Eventually(t, func() bool { return boardOf(t, a).Team.Unsynced == 0 }, 10*time.Second, 20*time.Millisecond,
		"nothing left to push on A")
}

// A console started while the store cannot be reached acts as the
// operator the store last named for its cache, marked unverified, not
// as the OS user with the config's role (lead here).
func TestTeamIdentityRememberedWhileTheStoreIsDown(t *testing.T) {
	team := newIdentTeam(t, map[string]string{"ops1": "sitroom_tier1"})
	a := startConsole(t, team.config("ops1"))
	identWait(t, a, "ops1", model.RoleTier1)
	a.stop()
	team.pg.Kill(t)

	again := runConsole(t, a.opts, 0)
	op := again.d.Operator()
	assert.Equal(t, "ops1", op.User)
	assert.Equal(t, model.RoleTier1, op.Role, "the store's role, not the config's lead")
	tm := boardOf(t, again).Team
	assert.False(t, tm.Verified)
	assert.Equal(t, "ops1", tm.User)
	assert.Contains(t, tm.OperatorLabel(), "(unverified)")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := again.d.Do(ctx, model.ActionRequest{Verb: model.VerbNote, Comment: "while the store is down"})
	require.NoError(t, err)
	assert.Equal(t, model.ActionDelivered, res.State)
	log, err := again.rt.Cache.AuditLog(time.Time{})
	require.NoError(t, err)
	assert.Equal(t, "ops1", log[len(log)-1].Operator)
}

// The lab setup: a console whose URL connects as the schema's owner acts
// as the OS user with the config's role (lead here), as without a team;
// the store does not vouch for it, and the console says so.
func TestTeamOwnerLoginActsAsTheOSUser(t *testing.T) {
	team := newIdentTeam(t, nil)
	team.pass[pgtest.Role] = team.pg.PasswordFile
	c := startConsole(t, team.config(pgtest.Role))
	require.Eventually(t, func() bool { return boardOf(t, c).Team.Verified }, 30*time.Second, 20*time.Millisecond)
	tm := boardOf(t, c).Team
	assert.False(t, tm.Enforced)
	assert.Equal(t, identOSUser(), tm.User)
	assert.Equal(t, model.RoleLead, tm.Role)
	assert.Equal(t, identOSUser(), c.d.Operator().User)
	assert.Equal(t, model.RoleLead, c.d.Operator().Role)
	res := identEscalate(t, c, 2)
	assert.Equal(t, model.ActionDelivered, res.State, "the store's policies do not hold the owner: %s", res.Message)
}
