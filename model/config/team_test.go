package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const teamSources = "sources: [{name: a, type: prometheus, url: 'http://p:9090'}]\n"

func TestTeamStore(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pg"), []byte("s3cret\n"), 0o600))

	c, err := Parse([]byte(teamSources), dir)
	require.NoError(t, err)
	assert.False(t, c.TeamMode(), "no team key: the console keeps its state to itself")

	c, err = Parse([]byte(teamSources+"team: {postgres: 'postgres://sitroom@db.noc:5432/noc?sslmode=verify-full', password_file: pg}\n"), dir)
	require.NoError(t, err)
	assert.True(t, c.TeamMode())
	assert.Equal(t, filepath.Join(dir, "pg"), c.TeamPasswordFile(), "relative to the config file")
	assert.Equal(t, TeamRoles{Viewer: "sitroom_viewer", Tier1: "sitroom_tier1", Tier2: "sitroom_tier2", Lead: "sitroom_lead"},
		c.TeamRoles(), "the default group roles")

	c, err = Parse([]byte(teamSources+"team: {postgres: 'postgres://db/noc', roles: {tier1: noc_ops, lead: noc_leads}}\n"), dir)
	require.NoError(t, err)
	assert.Equal(t, TeamRoles{Viewer: "sitroom_viewer", Tier1: "noc_ops", Tier2: "sitroom_tier2", Lead: "noc_leads"}, c.TeamRoles(),
		"names given replace the defaults, one by one")

	for doc, want := range map[string]string{
		"team: {postgres: 'mysql://db/noc'}":                       "team.postgres: not a PostgreSQL URL",
		"team: {postgres: 'db.noc:5432'}":                          "team.postgres: not a PostgreSQL URL",
		"team: {postgres: 'postgres://sitroom:hunter2@db/noc'}":    "team.postgres: the URL holds a password: put it in a file named by team.password_file",
		"team: {postgres: 'postgresql://db/noc?password=hunter2'}": "team.postgres: the URL holds a password (password=)",
		"team: {postgres: 'postgres://db/noc', password_file: missing}": "team.password_file: cannot read the password file: open " +
			filepath.Join(dir, "missing"),
		"team: {password_file: pg}":                                                "team.postgres: team.password_file is set but team.postgres is not",
		"team: {roles: {tier1: ops}}":                                              "team.postgres: team.roles is set but team.postgres is not",
		"team: {postgres: 'postgres://db', pw: x}":                                 "team.pw",
		"team: {postgres: 'postgres://db', roles: {tier1: 'Ops-T1'}}":              `team.roles.tier1: "Ops-T1" is not a PostgreSQL role name`,
		"team: {postgres: 'postgres://db', roles: {tier2: noc_t1, tier1: noc_t1}}": `team.roles.tier2: "noc_t1" is already the tier1 role`,
		"team: {postgres: 'postgres://db', roles: {admin: x}}":                     "team.roles.admin",
	} {
		_, err := Parse([]byte(teamSources+doc+"\n"), dir)
		require.Error(t, err, doc)
		assert.Contains(t, err.Error(), want, doc)
		assert.NotContains(t, err.Error(), "hunter2", doc)
	}
}
