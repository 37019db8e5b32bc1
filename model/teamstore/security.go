package teamstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"sitroom/model"
)

// Roles names the team's four PostgreSQL group roles. They form a chain
// by membership — Viewer ⊂ Tier1 ⊂ Tier2 ⊂ Lead: Tier1 is a member of
// Viewer, Tier2 of Tier1, Lead of Tier2 — so a lead holds every grant of
// the roles below it. An operator's role is the highest of them they are
// a member of (pg_has_role … 'MEMBER').
type Roles struct{ Viewer, Tier1, Tier2, Lead string }

// DefaultRoles returns sitroom_viewer, sitroom_tier1, sitroom_tier2 and
// sitroom_lead.
func DefaultRoles() Roles {
	return Roles{Viewer: "sitroom_viewer", Tier1: "sitroom_tier1", Tier2: "sitroom_tier2", Lead: "sitroom_lead"}
}

// orDefault fills the names left empty with the default ones.
func (r Roles) orDefault() Roles {
	d := DefaultRoles()
	if r.Viewer == "" {
		r.Viewer = d.Viewer
	}
	if r.Tier1 == "" {
		r.Tier1 = d.Tier1
	}
	if r.Tier2 == "" {
		r.Tier2 = d.Tier2
	}
	if r.Lead == "" {
		r.Lead = d.Lead
	}
	return r
}

// chain is the roles from the lowest, with what each stands for.
func (r Roles) chain() []struct {
	name string
	role model.Role
} {
	return []struct {
		name string
		role model.Role
	}{{r.Viewer, model.RoleViewer}, {r.Tier1, model.RoleTier1}, {r.Tier2, model.RoleTier2}, {r.Lead, model.RoleLead}}
}

// Name returns the group role standing for role; RoleNone (any role that
// may act) stands for Tier1.
func (r Roles) Name(role model.Role) string {
	r = r.orDefault()
	switch role {
	case model.RoleViewer:
		return r.Viewer
	case model.RoleTier2:
		return r.Tier2
	case model.RoleLead:
		return r.Lead
	}
	return r.Tier1
}

// Level is an escalation level and the least role that may escalate to
// it (RoleNone: tier1).
type Level struct {
	Level   int
	MinRole model.Role
}

// InitOptions say how Init sets the team store up.
type InitOptions struct {
	// Roles names the group roles (zero: DefaultRoles).
	Roles Roles
	// Levels are the config's escalation levels: the store refuses an
	// escalation to a level not listed, or by an operator below its
	// MinRole.
	Levels []Level
	// PasswordFile holds the admin role's password (a trailing newline is
	// dropped); without it libpq's usual ways apply.
	PasswordFile string
}

// InitReport says what Init changed, one sentence each ("created role
// sitroom_tier1", "applied schema version 4", …): none when the store was
// already set up as asked.
type InitReport struct {
	Changed       []string
	SchemaVersion int
}

// ErrOlderSchema is returned by Open when the database's schema is behind
// this sitroom and the console's role may not migrate it (it does not own
// the schema): the administrator runs `sitroom team init`.
var ErrOlderSchema = errors.New("the team store's schema is older than this sitroom: run sitroom team init --admin-url URL as the store's administrator")

// quoteLit is s as an SQL string literal.
func quoteLit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// quoteIdent is s as an SQL identifier.
func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// Init sets the team store up as its administrator: adminURL connects as
// a role that owns the schema (or will: an empty database) or is a
// superuser, and that may create roles (CREATEROLE) when the group roles
// are missing. It creates the group roles and their chain, applies every
// schema version the database lacks, grants each group what it may do
// and installs the row-level security policies (see docs/team.md, "Roles
// and the audit log"), and writes the escalation levels. It is
// idempotent: run again with the same options it changes nothing and
// reports nothing; with other levels it rewrites them.
func Init(ctx context.Context, adminURL string, opt InitOptions) (InitReport, error) {
	roles := opt.Roles.orDefault()
	var rep InitReport
	s, err := newStore(Options{URL: adminURL, PasswordFile: opt.PasswordFile})
	if err != nil {
		return rep, err
	}
	defer s.Close()
	for _, l := range opt.Levels {
		if l.MinRole > model.RoleLead || l.MinRole < model.RoleNone {
			return rep, s.wrap("set the store up", fmt.Errorf("escalation level %d: unknown min_role", l.Level))
		}
	}
	err = s.do(ctx, "set the store up", func(c *pgx.Conn) error {
		rep = InitReport{}
		// The roles: cluster-wide, so outside the database's transactions.
		for i, r := range roles.chain() {
			var exists bool
			if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, r.name).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				if _, err := c.Exec(ctx, `CREATE ROLE `+quoteIdent(r.name)+` NOLOGIN`); err != nil {
					var pe *pgconn.PgError
					if !errors.As(err, &pe) || pe.Code != "42710" { // created meanwhile by another init
						return fmt.Errorf("create role %s: %w", r.name, err)
					}
				} else {
					rep.Changed = append(rep.Changed, "created role "+r.name)
				}
			}
			if i == 0 {
				continue
			}
			below := roles.chain()[i-1].name
			var member bool
			if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_auth_members m
				WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1)
				AND m.member = (SELECT oid FROM pg_roles WHERE rolname = $2))`, below, r.name).Scan(&member); err != nil {
				return err
			}
			if !member {
				if _, err := c.Exec(ctx, `GRANT `+quoteIdent(below)+` TO `+quoteIdent(r.name)); err != nil {
					return fmt.Errorf("make %s a member of %s: %w", r.name, below, err)
				}
				rep.Changed = append(rep.Changed, fmt.Sprintf("made %s a member of %s", r.name, below))
			}
		}
		applied, err := migrate(ctx, c)
		for _, v := range applied {
			rep.Changed = append(rep.Changed, fmt.Sprintf("applied schema version %d", v))
		}
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
				return err
			}
			before, err := acls(ctx, tx)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, securitySQL(roles)); err != nil {
				return fmt.Errorf("grants and policies: %w", err)
			}
			after, err := acls(ctx, tx)
			if err != nil {
				return err
			}
			var names []string
			for name, a := range after {
				if before[name] != a {
					names = append(names, name)
				}
			}
			sort.Strings(names)
			for _, n := range names {
				rep.Changed = append(rep.Changed, "set the privileges and policies of "+n)
			}
			changed, err := writeLevels(ctx, tx, roles, opt.Levels)
			rep.Changed = append(rep.Changed, changed...)
			if err != nil {
				return err
			}
			rep.SchemaVersion, err = currentVersion(ctx, tx)
			return err
		})
		return err
	})
	if denied(err) {
		err = fmt.Errorf("%w (the admin role must own the store's tables, or be a superuser, and may create roles)", err)
	}
	return rep, err
}

// acls reads, for every table and sequence of the schema and the schema
// itself, its privileges, row-level security and policies as text: what
// Init compares before and after setting them to tell what it changed.
func acls(ctx context.Context, tx pgx.Tx) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT 'table ' || c.relname, concat_ws(' | ', coalesce(c.relacl::text, ''), c.relrowsecurity::text,
			(SELECT string_agg(a.attname || '=' || a.attacl::text, ',' ORDER BY a.attnum) FROM pg_attribute a
				WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL AND cardinality(a.attacl) > 0),
			(SELECT string_agg(concat_ws(':', p.polname, p.polcmd, p.polroles::text, pg_get_expr(p.polqual, p.polrelid),
				pg_get_expr(p.polwithcheck, p.polrelid)), ';' ORDER BY p.polname) FROM pg_policy p WHERE p.polrelid = c.oid))
		FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'S')
		UNION ALL SELECT 'schema ' || nspname, coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = current_schema()`)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// securitySQL grants each group role what it may do and installs the
// policies, from scratch each time (so a grant made by hand is taken
// back): the same statements give the same privileges, which is what
// makes Init idempotent.
func securitySQL(r Roles) string {
	v, t1 := quoteIdent(r.Viewer), quoteIdent(r.Tier1)
	member := func(name string) string { return "pg_has_role(current_user, " + quoteLit(name) + ", 'MEMBER')" }
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+";\n", args...) }
	all := []string{"schema_version", "escalation_levels", "audit", "action_state", "acks", "escalations", "notes",
		"deliveries", "team_lease", "source_status", "outage_history", "source_history", "backlog_samples",
		"outage_views", "source_views"}
	for _, t := range all {
		w("REVOKE ALL ON TABLE %s FROM %s, %s, %s, %s", t, v, t1, quoteIdent(r.Tier2), quoteIdent(r.Lead))
	}
	seqs := "change_seq, deliveries_id_seq, outage_history_id_seq, source_history_id_seq"
	w("REVOKE ALL ON SEQUENCE %s FROM %s, %s, %s, %s", seqs, v, t1, quoteIdent(r.Tier2), quoteIdent(r.Lead))
	w("DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %%I TO %%I', current_schema(), %s); END $$", quoteLit(r.Viewer))
	// Every group reads everything; nextval for the rows it writes.
	w("GRANT SELECT ON TABLE %s TO %s", strings.Join(all, ", "), v)
	w("GRANT USAGE ON SEQUENCE %s TO %s", seqs, v)
	// What a console writes of what it sees, whatever its role.
	w("GRANT INSERT, UPDATE ON TABLE source_status, outage_views, source_views TO %s", v)
	// Actions: tier1 and up. The audit log is append-only.
	w("GRANT INSERT ON TABLE audit, acks, escalations, notes, action_state TO %s", t1)
	w("GRANT UPDATE (state, upstream, reason) ON TABLE action_state TO %s", t1)
	w("GRANT UPDATE (cleared_at, cleared_by, ended_at, ended) ON TABLE acks TO %s", t1)
	w("GRANT UPDATE (cleared_at) ON TABLE escalations TO %s", t1)
	w("GRANT INSERT, UPDATE (state, attempts, next_at, ref, error, claimed_by) ON TABLE deliveries TO %s", t1)
	// The lease holder's work: the lease, the outbox, the team's history.
	w("GRANT INSERT, UPDATE (holder, expires_at) ON TABLE team_lease TO %s", t1)
	w("GRANT INSERT, UPDATE (severity, alerts, opened_at, closed_at, provisional) ON TABLE outage_history TO %s", t1)
	w("GRANT INSERT, UPDATE (up_at, error) ON TABLE source_history TO %s", t1)
	w("GRANT INSERT, UPDATE (open, unassigned, breached) ON TABLE backlog_samples TO %s", t1)

	// Row-level security: who acts is who is connected.
	claim := fmt.Sprintf(`CASE role WHEN 'viewer' THEN %s WHEN 'tier1' THEN %s WHEN 'tier2' THEN %s WHEN 'lead' THEN %s ELSE false END`,
		member(r.Viewer), member(r.Tier1), member(r.Tier2), member(r.Lead))
	level := `EXISTS (SELECT 1 FROM escalation_levels l WHERE l.level = escalations.level AND pg_has_role(current_user, l.min_role, 'MEMBER'))`
	for _, p := range []struct{ table, insert string }{
		{"audit", "operator = current_user AND " + claim},
		{"acks", "operator = current_user"},
		{"escalations", "operator = current_user AND " + level},
		{"notes", "operator = current_user"},
	} {
		w("ALTER TABLE %s ENABLE ROW LEVEL SECURITY", p.table)
		for _, name := range []string{"sitroom_read", "sitroom_insert", "sitroom_update"} {
			w("DROP POLICY IF EXISTS %s ON %s", name, p.table)
		}
		w("CREATE POLICY sitroom_read ON %s FOR SELECT USING (true)", p.table)
		w("CREATE POLICY sitroom_insert ON %s FOR INSERT WITH CHECK (%s)", p.table, p.insert)
		if p.table == "acks" || p.table == "escalations" {
			w("CREATE POLICY sitroom_update ON %s FOR UPDATE USING (true) WITH CHECK (true)", p.table)
		}
	}
	return b.String()
}

// writeLevels makes escalation_levels hold levels, each with its min_role
// group, and says what it changed.
func writeLevels(ctx context.Context, tx pgx.Tx, roles Roles, levels []Level) ([]string, error) {
	have := map[int]string{}
	rows, err := tx.Query(ctx, `SELECT level, min_role FROM escalation_levels`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var l int
		var r string
		if err := rows.Scan(&l, &r); err != nil {
			rows.Close()
			return nil, err
		}
		have[l] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var changed []string
	want := map[int]bool{}
	for _, l := range levels {
		want[l.Level] = true
		name := roles.Name(l.MinRole)
		if cur, ok := have[l.Level]; ok && cur == name {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO escalation_levels(level, min_role) VALUES ($1, $2)
			ON CONFLICT (level) DO UPDATE SET min_role = excluded.min_role`, l.Level, name); err != nil {
			return changed, err
		}
		changed = append(changed, fmt.Sprintf("escalation level %d needs %s", l.Level, name))
	}
	var gone []int
	for l := range have {
		if !want[l] {
			gone = append(gone, l)
		}
	}
	sort.Ints(gone)
	for _, l := range gone {
		if _, err := tx.Exec(ctx, `DELETE FROM escalation_levels WHERE level = $1`, l); err != nil {
			return changed, err
		}
		changed = append(changed, fmt.Sprintf("removed escalation level %d", l))
	}
	return changed, nil
}

// Identity is who the team store says the console is.
type Identity struct {
	// User is current_user: the role PostgreSQL authenticated.
	User string
	// Role is the highest of the team's group roles User is a member of;
	// RoleNone when none.
	Role model.Role
	// Operator says whether User is a member of any of the group roles.
	Operator bool
	// Enforced says whether the store's privileges and policies hold
	// User: false for the schema's owner, a superuser, a role with
	// BYPASSRLS, or a store whose roles and policies are not set up (the
	// lab setup: the console's own config then names the operator and
	// role).
	Enforced bool
	// Why says, when not Enforced, why not.
	Why string
}

// Identity reads who the console is connected as and what the store lets
// it do.
func (s *Store) Identity(ctx context.Context) (Identity, error) {
	var id Identity
	err := s.do(ctx, "read who is connected", func(c *pgx.Conn) error {
		var err error
		id, err = s.identity(ctx, c)
		return err
	})
	return id, err
}

func (s *Store) identity(ctx context.Context, c *pgx.Conn) (Identity, error) {
	var id Identity
	var super, bypass, owner, rls bool
	var ownerName string
	err := c.QueryRow(ctx, `SELECT current_user, r.rolsuper, r.rolbypassrls,
			coalesce((SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = to_regclass('audit')), false),
			coalesce((SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass('audit')), ''),
			coalesce((SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass('audit')), false)
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&id.User, &super, &bypass, &owner, &ownerName, &rls)
	if err != nil {
		return id, err
	}
	roles := s.roles.orDefault()
	chain := roles.chain()
	names := make([]string, len(chain))
	for i, r := range chain {
		names[i] = r.name
	}
	rows, err := c.Query(ctx, `SELECT rolname FROM pg_roles WHERE rolname = ANY($1) AND pg_has_role(current_user, oid, 'MEMBER')`, names)
	if err != nil {
		return id, err
	}
	held, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return id, err
	}
	for _, r := range chain {
		for _, h := range held {
			if h == r.name && r.role > id.Role {
				id.Role = r.role
			}
		}
	}
	id.Operator = id.Role != model.RoleNone
	switch {
	case super:
		id.Why = "connected as " + id.User + ", a superuser: the store's policies do not hold it"
	case bypass:
		id.Why = "connected as " + id.User + ", a role with BYPASSRLS: the store's policies do not hold it"
	case owner && ownerName == id.User:
		id.Why = "connected as the schema's owner (" + id.User + "): the store's policies do not hold it"
	case owner:
		id.Why = "connected as " + id.User + ", a member of the schema's owner " + ownerName + ": the store's policies do not hold it"
	case !rls:
		id.Why = "the team store's roles and policies are not set up: run sitroom team init --admin-url URL"
	default:
		id.Enforced = true
	}
	return id, nil
}

// May answers, as the store's privileges and policies would, whether the
// console may record an action of verb (to escalation level, for an
// escalation): "" when it may, else why not in words. Asked before an
// action is recorded, it turns a refusal the push would meet into one the
// operator sees before anything is delivered. A store that does not
// enforce identities (Identity.Enforced false) refuses nothing.
//
// What the store can tell: whether the login is an operator of the team,
// whether its role may act (tier1 and up), and an escalation level's
// min_role. What it cannot — whose silence an expiry ends (tier2 to end
// another's), whether a ticket is already at Tier 2 — stays the client's
// policy's.
func (s *Store) May(ctx context.Context, verb model.Verb, level int) (string, error) {
	var why string
	err := s.do(ctx, "ask the store", func(c *pgx.Conn) error {
		id, err := s.identity(ctx, c)
		if err != nil || !id.Enforced {
			why = ""
			return err
		}
		roles := s.roles.orDefault()
		switch {
		case !id.Operator:
			why = fmt.Sprintf("%s is not a member of the team's roles (%s, %s, %s, %s): read-only", id.User,
				roles.Viewer, roles.Tier1, roles.Tier2, roles.Lead)
			return nil
		case id.Role < model.RoleTier1:
			why = fmt.Sprintf("role %s cannot act in the team store (%s is a member of %s only)", id.Role, id.User, roles.Viewer)
			return nil
		}
		var insert bool
		if err := c.QueryRow(ctx, `SELECT has_table_privilege('audit', 'INSERT')`).Scan(&insert); err != nil {
			return err
		}
		if !insert {
			why = fmt.Sprintf("%s may not write the team's audit log", id.User)
			return nil
		}
		why = ""
		if verb != model.VerbEscalate {
			return nil
		}
		var minRole string
		var ok bool
		err = c.QueryRow(ctx, `SELECT min_role, pg_has_role(current_user, min_role, 'MEMBER') FROM escalation_levels
			WHERE level = $1`, level).Scan(&minRole, &ok)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			why = fmt.Sprintf("the team store has no escalation level %d (its administrator runs sitroom team init to load the config's levels)", level)
			return nil
		case err != nil:
			return err
		case !ok:
			why = fmt.Sprintf("role %s cannot escalate to level %d (the team store requires %s)", id.Role, level, minRole)
		}
		return nil
	})
	return why, err
}

// RefusedError is the store's refusal of one action (SQLSTATE 42501: a
// privilege the login lacks or a row-level security policy): Push and
// Sync return it, naming the action, and record nothing of it. Pushing
// it again is refused again; the caller marks it refused and goes on.
type RefusedError struct {
	UID    string
	Reason string
}

// Error says which action was refused and why.
func (e *RefusedError) Error() string {
	return "the team store refused action " + e.UID + ": " + e.Reason
}

// denied reports whether err is the server's refusal for want of a
// privilege or by a row-level security policy (SQLSTATE 42501).
func denied(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42501"
}

var tableRE = regexp.MustCompile(`table "?([a-z_]+)"?`)

// refusal turns err into a *RefusedError when the server refused the
// action a for want of a privilege or by a policy; otherwise it returns
// nil.
func (s *Store) refusal(ctx context.Context, a *model.Action, err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" {
		return nil
	}
	table := ""
	if m := tableRE.FindStringSubmatch(pe.Message); m != nil {
		table = m[1]
	}
	user := ""
	minRole := ""
	_ = s.do(ctx, "read who is connected", func(c *pgx.Conn) error {
		if err := c.QueryRow(ctx, `SELECT current_user`).Scan(&user); err != nil {
			return err
		}
		if table == "escalations" {
			_ = c.QueryRow(ctx, `SELECT min_role FROM escalation_levels WHERE level = $1`, a.Level).Scan(&minRole)
		}
		return nil
	})
	reason := pe.Message
	switch {
	case strings.HasPrefix(pe.Message, "permission denied"):
		reason = fmt.Sprintf("%s may not record this action (%s)", user, pe.Message)
	case a.Operator != user && user != "":
		reason = fmt.Sprintf("%s cannot record an action as %s", user, a.Operator)
	case table == "audit":
		reason = fmt.Sprintf("%s does not hold role %s in the team store", user, a.Role)
	case table == "escalations" && minRole != "":
		reason = fmt.Sprintf("%s cannot escalate to level %d (the team store requires %s)", user, a.Level, minRole)
	case table == "escalations":
		reason = fmt.Sprintf("the team store has no escalation level %d", a.Level)
	}
	return &RefusedError{UID: a.UID, Reason: reason}
}

// AuditCheck is what VerifyAudit found.
type AuditCheck struct {
	// Rows is how many audit rows were read.
	Rows int
	// OK says whether every row's hash matches its content and the row
	// before it.
	OK bool
	// BrokenSeq and BrokenUID name the first row where the chain breaks
	// (0 and "" when OK).
	BrokenSeq int64
	BrokenUID string
	// Why says how it breaks, in words.
	Why string
}

// auditCanon is the canonical text of the audit row p (an alias, or NEW
// in the trigger) that its hash covers: a JSON array, each value escaped
// and in a fixed order, times in UTC to the microsecond. Part of schema
// version 4: it never changes.
func auditCanon(p string) string {
	ts := func(col string) string {
		return `to_char(` + p + `.` + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
	}
	return `json_build_array(` + p + `.uid, ` + ts("at") + `, ` + p + `.operator, ` + p + `.role, ` + p + `.host, ` +
		p + `.ssh_client, ` + p + `.verb, ` + p + `.service, ` + p + `.target, ` + p + `.comment, ` + p + `.stamped_by, ` +
		ts("stamped_at") + `, ` + p + `.seq)::text`
}

// VerifyAudit reads the whole audit log in seq order and checks its hash
// chain: each row's prev_hash is the hash of the row before it, and its
// hash is sha256 of prev_hash and the row's canonical text, computed here
// rather than by the server's trigger. A row altered, removed or
// inserted out of band breaks the chain at it (or at the row after a
// removed one): the first break is reported. Removing the newest rows
// leaves no trace in the chain itself.
func (s *Store) VerifyAudit(ctx context.Context) (AuditCheck, error) {
	var out AuditCheck
	err := s.do(ctx, "verify the audit log", func(c *pgx.Conn) error {
		out = AuditCheck{OK: true}
		return pgx.BeginTxFunc(ctx, c, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT a.seq, a.uid, a.prev_hash, a.hash, convert_to(`+auditCanon("a")+`, 'UTF8')
				FROM audit a ORDER BY a.seq`)
			if err != nil {
				return err
			}
			defer rows.Close()
			var prev []byte
			for rows.Next() {
				var seq int64
				var uid string
				var prevHash, hash, canon []byte
				if err := rows.Scan(&seq, &uid, &prevHash, &hash, &canon); err != nil {
					return err
				}
				out.Rows++
				if !out.OK {
					continue
				}
				h := sha256.New()
				h.Write(prev)
				h.Write(canon)
				sum := h.Sum(nil)
				switch {
				case !bytes.Equal(prevHash, prev):
					out.OK, out.Why = false, "its link to the row before does not match: a row before it was removed, inserted or altered"
				case !bytes.Equal(hash, sum):
					out.OK, out.Why = false, "its content does not match its hash: the row was altered"
				}
				if !out.OK {
					out.BrokenSeq, out.BrokenUID = seq, uid
				}
				prev = hash
			}
			return rows.Err()
		})
	})
	return out, err
}

// readPassword reads a password file, the trailing newline dropped.
func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
