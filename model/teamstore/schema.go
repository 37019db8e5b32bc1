package teamstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// migrateLock is the key of the transaction-level advisory lock each
// migration runs under, so consoles starting at once apply it once.
const migrateLock = 0x5173_7472_6d01 // "sitrm" 1

// writeLock is the key of the advisory lock every write takes until its
// transaction ends (Store.write takes it first; the seq trigger takes it
// too, for writers other than sitroom): writes are serialized, so the
// order of seq is the order of commits and a reader that has seen seq n
// has seen every change before it. The team's write rate (operators'
// actions, one recorder, a status row per source and poll) is far below
// what that allows.
const writeLock = 0x5173_7472_6d02

// migrations are the schema versions, in order; version i+1 is
// migrations[i]. A version, once released, never changes: a change is a
// new version.
var migrations = []string{
	// 1: what operators do, the outbox, the lease, the sources' status.
	//
	// Every table has seq, set from the one sequence change_seq on insert
	// and update (trigger set_seq), and a statement trigger notifying
	// channel sitroom with the table's name: Changes reads every row with
	// a seq past a cursor, Listen hears that there is something to read.
	`CREATE SEQUENCE change_seq;
	CREATE FUNCTION set_seq() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_advisory_xact_lock(` + fmt.Sprint(writeLock) + `);
		NEW.seq := nextval('change_seq');
		RETURN NEW;
	END $$;
	CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM pg_notify('sitroom', TG_TABLE_NAME);
		RETURN NULL;
	END $$;
	CREATE TABLE audit (
		uid        text        PRIMARY KEY,
		at         timestamptz NOT NULL,
		operator   text        NOT NULL,
		role       text        NOT NULL,
		host       text        NOT NULL,
		ssh_client text        NOT NULL,
		verb       text        NOT NULL,
		service    text        NOT NULL,
		target     text        NOT NULL,
		comment    text        NOT NULL,
		upstream   text        NOT NULL DEFAULT '',
		state      text        NOT NULL,
		reason     text        NOT NULL DEFAULT '',
		seq        bigint      NOT NULL
	);
	CREATE INDEX audit_at ON audit(at);
	CREATE INDEX audit_seq ON audit(seq);
	CREATE TABLE acks (
		uid        text        PRIMARY KEY REFERENCES audit(uid),
		service    text        NOT NULL,
		alert_keys text[]      NOT NULL,
		operator   text        NOT NULL,
		at         timestamptz NOT NULL,
		until      timestamptz NOT NULL,
		comment    text        NOT NULL,
		cleared_at timestamptz,
		cleared_by text        NOT NULL DEFAULT '',
		ended_at   timestamptz,
		ended      text        NOT NULL DEFAULT '',
		seq        bigint      NOT NULL
	);
	CREATE INDEX acks_open ON acks(service) WHERE cleared_at IS NULL;
	CREATE INDEX acks_seq ON acks(seq);
	CREATE TABLE escalations (
		uid        text        PRIMARY KEY REFERENCES audit(uid),
		service    text        NOT NULL,
		level      integer     NOT NULL,
		who        text        NOT NULL,
		contact    text        NOT NULL,
		operator   text        NOT NULL,
		at         timestamptz NOT NULL,
		comment    text        NOT NULL,
		cleared_at timestamptz,
		seq        bigint      NOT NULL
	);
	CREATE INDEX escalations_open ON escalations(service) WHERE cleared_at IS NULL;
	CREATE INDEX escalations_seq ON escalations(seq);
	CREATE TABLE notes (
		uid      text        PRIMARY KEY REFERENCES audit(uid),
		service  text        NOT NULL,
		operator text        NOT NULL,
		at       timestamptz NOT NULL,
		text     text        NOT NULL,
		seq      bigint      NOT NULL
	);
	CREATE INDEX notes_at ON notes(at);
	CREATE INDEX notes_seq ON notes(seq);
	CREATE TABLE deliveries (
		id         bigserial   PRIMARY KEY,
		action_uid text        NOT NULL REFERENCES audit(uid),
		kind       text        NOT NULL,
		dest       text        NOT NULL,
		key        text        NOT NULL,
		payload    text        NOT NULL,
		state      text        NOT NULL,
		attempts   integer     NOT NULL DEFAULT 0,
		next_at    timestamptz NOT NULL,
		claimed_by text        NOT NULL DEFAULT '',
		ref        text        NOT NULL DEFAULT '',
		error      text        NOT NULL DEFAULT '',
		until      timestamptz,
		seq        bigint      NOT NULL,
		UNIQUE (action_uid, kind, dest, key)
	);
	CREATE INDEX deliveries_due ON deliveries(next_at) WHERE state = 'pending';
	CREATE INDEX deliveries_seq ON deliveries(seq);
	CREATE TABLE team_lease (
		name       text        PRIMARY KEY,
		holder     text        NOT NULL,
		expires_at timestamptz NOT NULL,
		seq        bigint      NOT NULL
	);
	CREATE TABLE source_status (
		host         text        NOT NULL,
		source       text        NOT NULL,
		type         text        NOT NULL,
		last_attempt timestamptz,
		last_success timestamptz,
		last_error   text        NOT NULL,
		latency_us   bigint      NOT NULL,
		items        integer     NOT NULL,
		note         text        NOT NULL,
		findings     jsonb       NOT NULL DEFAULT '[]',
		seq          bigint      NOT NULL,
		PRIMARY KEY (host, source)
	);
	CREATE INDEX source_status_seq ON source_status(seq);`,

	// 2: the history a shift handoff is built from, recorded by the
	// console holding the team lease: one outage_history row per outage
	// for the whole team (unique on service and opened_at, so two consoles
	// recording it make one), source outages, ticket backlog samples.
	`CREATE TABLE outage_history (
		id          bigserial   PRIMARY KEY,
		service     text        NOT NULL,
		severity    text        NOT NULL,
		opened_at   timestamptz NOT NULL,
		first_seen  timestamptz NOT NULL,
		closed_at   timestamptz,
		provisional boolean     NOT NULL DEFAULT false,
		alerts      integer     NOT NULL,
		seq         bigint      NOT NULL,
		UNIQUE (service, opened_at)
	);
	CREATE INDEX outage_history_open ON outage_history(service) WHERE closed_at IS NULL;
	CREATE INDEX outage_history_seq ON outage_history(seq);
	CREATE TABLE source_history (
		id      bigserial   PRIMARY KEY,
		source  text        NOT NULL,
		down_at timestamptz NOT NULL,
		up_at   timestamptz,
		error   text        NOT NULL,
		seq     bigint      NOT NULL,
		UNIQUE (source, down_at)
	);
	CREATE INDEX source_history_seq ON source_history(seq);
	CREATE TABLE backlog_samples (
		at         timestamptz NOT NULL,
		source     text        NOT NULL,
		tier       text        NOT NULL,
		open       integer     NOT NULL,
		unassigned integer     NOT NULL,
		breached   integer     NOT NULL,
		seq        bigint      NOT NULL,
		PRIMARY KEY (source, tier, at)
	);
	CREATE INDEX backlog_samples_at ON backlog_samples(at);
	CREATE INDEX backlog_samples_seq ON backlog_samples(seq);`,

	// 3: every host's view of the history. Each console mirrors the
	// outages and source outages its own poller recorded, keyed by host,
	// the cache they live in (cache_id, random per cache file) and the
	// record's id there; the team's outage history is derived from them
	// (History: one outage per service and opened_at).
	`CREATE TABLE outage_views (
		host        text        NOT NULL,
		cache_id    bigint      NOT NULL,
		local_id    bigint      NOT NULL,
		service     text        NOT NULL,
		severity    text        NOT NULL,
		opened_at   timestamptz NOT NULL,
		first_seen  timestamptz NOT NULL,
		closed_at   timestamptz,
		provisional boolean     NOT NULL DEFAULT false,
		alerts      integer     NOT NULL,
		seq         bigint      NOT NULL,
		PRIMARY KEY (host, cache_id, local_id)
	);
	CREATE INDEX outage_views_outage ON outage_views(service, opened_at);
	CREATE INDEX outage_views_opened ON outage_views(opened_at);
	CREATE INDEX outage_views_seq ON outage_views(seq);
	CREATE TABLE source_views (
		host     text        NOT NULL,
		cache_id bigint      NOT NULL,
		local_id bigint      NOT NULL,
		source   text        NOT NULL,
		down_at  timestamptz NOT NULL,
		up_at    timestamptz,
		error    text        NOT NULL,
		seq      bigint      NOT NULL,
		PRIMARY KEY (host, cache_id, local_id)
	);
	CREATE INDEX source_views_down ON source_views(down_at);
	CREATE INDEX source_views_seq ON source_views(seq);`,

	// 4: security. The audit log becomes immutable: what changes of an
	// action after it is made (its state, upstream references, reason)
	// moves to action_state; each audit row is stamped by the server
	// (stamped_by, stamped_at: forced by the trigger audit_stamp whatever
	// the client sends) and chained (prev_hash, hash: sha256 of the row
	// before's hash and the row's canonical text, see auditCanon), so an
	// alteration by a role allowed to make one shows (VerifyAudit). Rows
	// made before are chained here, in seq order. escalation_levels holds
	// each level's min_role group, written by Init. The grants and
	// policies depend on the group roles' names: Init installs them.
	`CREATE TABLE action_state (
		uid      text   PRIMARY KEY REFERENCES audit(uid),
		state    text   NOT NULL,
		upstream text   NOT NULL DEFAULT '',
		reason   text   NOT NULL DEFAULT '',
		seq      bigint NOT NULL
	);
	CREATE INDEX action_state_seq ON action_state(seq);
	INSERT INTO action_state(uid, state, upstream, reason, seq) SELECT uid, state, upstream, reason, seq FROM audit;
	DROP TRIGGER audit_seq ON audit;
	ALTER TABLE audit DROP COLUMN state, DROP COLUMN upstream, DROP COLUMN reason,
		ADD COLUMN stamped_by text NOT NULL DEFAULT current_user,
		ADD COLUMN stamped_at timestamptz NOT NULL DEFAULT now(),
		ADD COLUMN prev_hash bytea,
		ADD COLUMN hash bytea;
	DO $$
	DECLARE
		r record;
		prev bytea;
	BEGIN
		FOR r IN SELECT uid FROM audit ORDER BY seq LOOP
			UPDATE audit SET prev_hash = prev, hash = sha256(coalesce(prev, ''::bytea) || convert_to(` + auditCanon("audit") + `, 'UTF8'))
				WHERE uid = r.uid RETURNING hash INTO prev;
		END LOOP;
	END $$;
	CREATE TRIGGER audit_seq BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION set_seq();
	CREATE FUNCTION audit_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
	DECLARE
		prev bytea;
	BEGIN
		PERFORM pg_advisory_xact_lock(` + fmt.Sprint(writeLock) + `);
		NEW.stamped_by := current_user;
		NEW.stamped_at := now();
		SELECT hash INTO prev FROM audit ORDER BY seq DESC LIMIT 1;
		NEW.prev_hash := prev;
		NEW.hash := sha256(coalesce(prev, ''::bytea) || convert_to(` + auditCanon("NEW") + `, 'UTF8'));
		RETURN NEW;
	END $$;
	-- after audit_seq (triggers fire in name order): the hash covers seq.
	CREATE TRIGGER audit_stamp BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_stamp();
	CREATE TABLE escalation_levels (
		level    integer PRIMARY KEY,
		min_role text    NOT NULL
	);`,
}

// tables lists every table Changes reads, each with the seq and notify
// triggers; version says which migration made it.
var tables = []struct {
	name    string
	version int
}{
	{"audit", 1}, {"acks", 1}, {"escalations", 1}, {"notes", 1}, {"deliveries", 1}, {"team_lease", 1},
	{"source_status", 1}, {"outage_history", 2}, {"source_history", 2}, {"backlog_samples", 2},
	{"outage_views", 3}, {"source_views", 3}, {"action_state", 4},
}

// triggers returns the statements giving the tables of migration v their
// seq and notify triggers.
func triggers(v int) string {
	var s string
	for _, t := range tables {
		if t.version != v {
			continue
		}
		s += fmt.Sprintf(`CREATE TRIGGER %[1]s_seq BEFORE INSERT OR UPDATE ON %[1]s FOR EACH ROW EXECUTE FUNCTION set_seq();
			CREATE TRIGGER %[1]s_notify AFTER INSERT OR UPDATE OR DELETE ON %[1]s FOR EACH STATEMENT EXECUTE FUNCTION notify_change();
`, t.name)
	}
	return s
}

// SchemaVersion is the schema version this package writes and reads.
var SchemaVersion = len(migrations)

// ErrNewerSchema is returned by Open when the database holds a schema
// newer than this console knows: a newer sitroom migrated it.
var ErrNewerSchema = errors.New("the team store's schema is newer than this sitroom knows; upgrade sitroom")

// currentVersion reads the schema version, 0 for an empty database.
func currentVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v)
	return v, err
}

// migrate applies the versions the database lacks, each in its own
// transaction under the migration lock: of several consoles opening an
// empty database at once, one applies each version and the others find
// it applied once they get the lock. It returns the versions it applied.
func migrate(ctx context.Context, c *pgx.Conn) ([]int, error) {
	var applied []int
	v, err := currentVersion(ctx, c)
	if err != nil {
		return nil, err
	}
	if v > len(migrations) {
		return nil, ErrNewerSchema
	}
	for v < len(migrations) {
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
				version    integer     PRIMARY KEY,
				applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				return err
			}
			cur, err := currentVersion(ctx, tx)
			if err != nil {
				return err
			}
			if cur != v {
				v = cur // applied meanwhile by another console
				return nil
			}
			if _, err := tx.Exec(ctx, migrations[v]+"\n"+triggers(v+1)); err != nil {
				return fmt.Errorf("schema version %d: %w", v+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version(version) VALUES ($1)`, v+1); err != nil {
				return err
			}
			v++
			applied = append(applied, v)
			return nil
		})
		if err != nil {
			return applied, err
		}
		if v > len(migrations) {
			return applied, ErrNewerSchema
		}
	}
	return applied, nil
}

// openMigrate is Open's migration rule: the versions the database lacks
// are applied only by a role that may (a superuser, the schema's owner,
// or anyone with CREATE on an empty database: the lab setup); a console
// of an operator finds the schema behind and is told to have the
// administrator run `sitroom team init`.
//
// A login that may not even read the schema's version (a member of none
// of the team's roles, or one revoked) opens the store all the same:
// Identity then says it is no operator, and its reads are refused.
func openMigrate(ctx context.Context, c *pgx.Conn) error {
	v, err := currentVersion(ctx, c)
	if denied(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return ErrNewerSchema
	}
	if v == len(migrations) {
		return nil
	}
	var may bool
	if err := c.QueryRow(ctx, `SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
		OR CASE WHEN to_regclass('audit') IS NULL THEN has_schema_privilege(current_schema(), 'CREATE')
		ELSE (SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = to_regclass('audit')) END`).Scan(&may); err != nil {
		return err
	}
	older := fmt.Errorf("%w (the store is at version %d, this sitroom needs %d)", ErrOlderSchema, v, len(migrations))
	if !may {
		return older
	}
	_, err = migrate(ctx, c)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" {
		return older
	}
	return err
}
