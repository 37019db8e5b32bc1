package config

import (
	"net/url"
	"os"
	"path/filepath"
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
}

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
