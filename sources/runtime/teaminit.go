package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/model/teamstore"
	"sitroom/sources"
)

// TeamInitOptions are `sitroom team init`'s flags.
type TeamInitOptions struct {
	// AdminURL is a libpq URL for a role that may create roles
	// (CREATEROLE) and owns the team store's database or schema (or a
	// superuser), without the password.
	AdminURL string
	// AdminPasswordFile holds that role's password; without it the
	// password comes from PGPASSWORD or PGPASSFILE / ~/.pgpass.
	AdminPasswordFile string
}

// teamInitTimeout bounds `sitroom team init`: connecting, the migrations,
// the roles and the policies.
const teamInitTimeout = 2 * time.Minute

// TeamInit is `sitroom team init`: as an administrator, once, it brings
// the team store's schema to this sitroom's version, creates the group
// roles the config names (team.roles, else sitroom_viewer … sitroom_lead),
// their grants and row-level security policies, and writes the config's
// escalation levels with their min_role, so the server makes the same
// decisions as a console's policy. It says what it changed (or that
// nothing needed to), then how to add an operator. Run again, it changes
// nothing. The admin password never reaches the output. It returns the
// exit code: 0 done, 1 failed.
func TeamInit(ctx context.Context, o Options, ti TeamInitOptions, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sitroom team init: "+format+"\n", a...)
		return 1
	}
	where, err := adminWhere(ti.AdminURL)
	if err != nil {
		return fail("--admin-url: %v", err)
	}
	cfg, stop, err := LoadConfig(ctx, o)
	if err != nil {
		return fail("config: %v", err)
	}
	defer stop()
	opt := teamInitOptions(cfg)
	opt.PasswordFile = ti.AdminPasswordFile
	if opt.PasswordFile != "" {
		if _, err := os.Stat(opt.PasswordFile); err != nil {
			return fail("--admin-password-file: %v", sources.Sanitize(err, 300))
		}
	}
	ictx, cancel := context.WithTimeout(ctx, teamInitTimeout)
	defer cancel()
	rep, err := teamstore.Init(ictx, ti.AdminURL, opt)
	if err != nil {
		return fail("%s: %s", where, adminFailure(err))
	}
	if len(rep.Changed) == 0 {
		fmt.Fprintf(stdout, "%s: nothing to change: schema %d, roles and policies in place\n", where, rep.SchemaVersion)
	} else {
		fmt.Fprintf(stdout, "%s: schema %d, %s:\n", where, rep.SchemaVersion, model.Plural(len(rep.Changed), "change", "changes"))
		for _, c := range rep.Changed {
			fmt.Fprintf(stdout, "  %s\n", sources.Sanitize(c, 300))
		}
	}
	fmt.Fprint(stdout, addOperatorHelp(opt.Roles))
	return 0
}

// teamInitOptions are what the config says of the team's roles and
// escalation levels. A level without min_role takes any role that may
// act: tier1.
func teamInitOptions(cfg *config.Config) teamstore.InitOptions {
	opt := teamstore.InitOptions{Roles: teamRoles(cfg)}
	for _, l := range cfg.Escalation {
		r, ok := model.ParseRole(l.MinRole)
		if !ok || r < model.RoleTier1 {
			r = model.RoleTier1
		}
		opt.Levels = append(opt.Levels, teamstore.Level{Level: l.Level, MinRole: r})
	}
	return opt
}

// teamRoles are the group role names the config gives (team.roles), the
// default ones for those it leaves out.
func teamRoles(cfg *config.Config) teamstore.Roles {
	return teamstore.Roles(cfg.TeamRoles())
}

// addOperatorHelp is how to add an operator once the roles are in place:
// a login role in the group of their role, then a certificate or a
// password.
func addOperatorHelp(r teamstore.Roles) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nTo add an operator (ops1 here), as the admin:\n")
	fmt.Fprintf(&b, "  CREATE ROLE ops1 LOGIN IN ROLE %s;      -- tier1; %s, %s, %s for the others\n", r.Tier1, r.Viewer, r.Tier2, r.Lead)
	fmt.Fprintf(&b, "  certificate: issue one with CN=ops1 from the CA the server trusts (sslcert/sslkey in ops1's team URL)\n")
	fmt.Fprintf(&b, "  or a password: ALTER ROLE ops1 PASSWORD '…' and the password in ~ops1/.pgpass\n")
	fmt.Fprintf(&b, "To revoke one: REVOKE %s FROM ops1; (or DROP ROLE ops1;) — their console turns read-only at its next connection.\n", r.Tier1)
	return b.String()
}

// adminWhere is the admin URL as it may be printed: host, port, database
// and user, never a password; an error when it holds one (it belongs in
// --admin-password-file, not on a command line others can read in ps).
func adminWhere(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("required: a libpq URL for a role with CREATEROLE that owns the team store's database, e.g. postgres://admin@db.noc.internal/noc?sslmode=verify-full")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("not a PostgreSQL URL: want postgres://user@host:port/database (or postgresql://)")
	}
	if _, has := u.User.Password(); has || u.Query().Has("password") {
		return "", errors.New("the URL holds a password: put it in a file named by --admin-password-file instead (or PGPASSFILE / ~/.pgpass)")
	}
	w := url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host, Path: u.Path}
	return sources.Sanitize(w.String(), 300), nil
}

// adminFailure is an init failure in words, with what to look at for the
// usual ones.
func adminFailure(err error) string {
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("not done within %s", teamInitTimeout)
	case errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000"):
		return sources.Sanitize(pe.Message, 200) + " (see --admin-password-file, PGPASSWORD, ~/.pgpass)"
	case errors.As(err, &pe) && pe.Code == "42501":
		return sources.Sanitize(pe.Message, 200) + ": the admin role needs CREATEROLE and to own the team store's database (or to be a superuser)"
	case errors.As(err, &pe) && pe.Code == "3D000":
		return sources.Sanitize(pe.Message, 200) + ": create the database first (CREATE DATABASE noc OWNER …)"
	}
	return teamFailure(err)
}
