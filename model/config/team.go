package config

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Team names the team store: one PostgreSQL every console of the NOC
// shares (team mode, docs/team.md). Without it a console keeps its state
// in its own cache only.
type Team struct {
	// Postgres is a libpq URL, postgres:// or postgresql://, without the
	// password: postgres://sitroom@db.noc.internal:5432/noc?sslmode=verify-full.
	// sslmode, sslrootcert, sslcert and sslkey work as libpq reads them.
	Postgres string `yaml:"postgres,omitempty"`
	// PasswordFile holds the role's password (absolute, or relative to the
	// config file; a trailing newline is dropped). Without it the password
	// comes from PGPASSWORD or PGPASSFILE / ~/.pgpass, as libpq does.
	PasswordFile string `yaml:"password_file,omitempty"`
	// Roles names the PostgreSQL group roles standing for the console's
	// roles in the team store; each left out keeps its default name
	// (sitroom_viewer, sitroom_tier1, sitroom_tier2, sitroom_lead).
	Roles TeamRoles `yaml:"roles,omitempty"`
}

// TeamRoles names the team store's group roles, one per role: an
// operator's role is the highest of them their login is a member of.
type TeamRoles struct {
	Viewer string `yaml:"viewer,omitempty"`
	Tier1  string `yaml:"tier1,omitempty"`
	Tier2  string `yaml:"tier2,omitempty"`
	Lead   string `yaml:"lead,omitempty"`
}

// TeamRoles returns team.roles with the default name of each role left
// out filled in.
func (c *Config) TeamRoles() TeamRoles {
	r := c.Team.Roles
	for _, f := range []struct {
		p   *string
		def string
	}{{&r.Viewer, "sitroom_viewer"}, {&r.Tier1, "sitroom_tier1"}, {&r.Tier2, "sitroom_tier2"}, {&r.Lead, "sitroom_lead"}} {
		if *f.p == "" {
			*f.p = f.def
		}
	}
	return r
}

// pgIdent matches the group role names team.roles accepts: a PostgreSQL
// identifier that needs no quoting (lower case, digits, _ and $, not
// starting with a digit or $), at most 63 bytes.
var pgIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]{0,62}$`)

// TeamMode reports whether the config names a team store.
func (c *Config) TeamMode() bool { return c.Team.Postgres != "" }

// TeamPasswordFile is team.password_file made absolute against the
// config's directory; "" when not set.
func (c *Config) TeamPasswordFile() string {
	p := c.Team.PasswordFile
	if p == "" {
		return ""
	}
	if !filepath.IsAbs(p) && c.baseDir != "" {
		p = filepath.Join(c.baseDir, p)
	}
	return filepath.Clean(p)
}

// team checks the team store's keys. The URL is never echoed: it may hold
// a password.
func (v *validator) team() {
	t := v.c.Team
	if t.Postgres == "" {
		if t.PasswordFile != "" {
			v.errorf("team.postgres", "team.password_file is set but team.postgres is not: name the team store's URL")
		}
		if t.Roles != (TeamRoles{}) {
			v.errorf("team.postgres", "team.roles is set but team.postgres is not: name the team store's URL")
		}
		return
	}
	u, err := url.Parse(t.Postgres)
	switch {
	case err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" && !strings.Contains(u.RawQuery, "host="):
		v.errorf("team.postgres", "not a PostgreSQL URL: want postgres://user@host:port/database (or postgresql://)")
		return
	case u.User != nil && func() bool { _, ok := u.User.Password(); return ok }():
		v.errorf("team.postgres", "the URL holds a password: put it in a file named by team.password_file instead")
	case u.Query().Has("password"):
		v.errorf("team.postgres", "the URL holds a password (password=): put it in a file named by team.password_file instead")
	}
	roles := v.c.TeamRoles()
	seen := map[string]string{}
	for _, r := range []struct{ key, name string }{{"viewer", roles.Viewer}, {"tier1", roles.Tier1}, {"tier2", roles.Tier2},
		{"lead", roles.Lead}} {
		switch {
		case !pgIdent.MatchString(r.name):
			v.errorf("team.roles."+r.key, "%q is not a PostgreSQL role name sitroom accepts: lower-case letters, digits and _, at most 63",
				r.name)
		case seen[r.name] != "":
			v.errorf("team.roles."+r.key, "%q is already the %s role: each role needs its own group", r.name, seen[r.name])
		default:
			seen[r.name] = r.key
		}
	}
	if hasControl(t.Postgres) {
		v.errorf("team.postgres", "control characters are not allowed in the URL")
	}
	if t.PasswordFile != "" {
		f, err := os.Open(v.c.TeamPasswordFile())
		if err != nil {
			v.errorf("team.password_file", "cannot read the password file: %v", err)
			return
		}
		f.Close()
	}
}
