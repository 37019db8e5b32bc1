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

	for doc, want := range map[string]string{
		"team: {postgres: 'mysql://db/noc'}":                       "team.postgres: not a PostgreSQL URL",
		"team: {postgres: 'db.noc:5432'}":                          "team.postgres: not a PostgreSQL URL",
		"team: {postgres: 'postgres://sitroom:hunter2@db/noc'}":    "team.postgres: the URL holds a password: put it in a file named by team.password_file",
		"team: {postgres: 'postgresql://db/noc?password=hunter2'}": "team.postgres: the URL holds a password (password=)",
		"team: {postgres: 'postgres://db/noc', password_file: missing}": "team.password_file: cannot read the password file: open " +
			filepath.Join(dir, "missing"),
		"team: {password_file: pg}":                "team.postgres: team.password_file is set but team.postgres is not",
		"team: {postgres: 'postgres://db', pw: x}": "team.pw",
	} {
		_, err := Parse([]byte(teamSources+doc+"\n"), dir)
		require.Error(t, err, doc)
		assert.Contains(t, err.Error(), want, doc)
		assert.NotContains(t, err.Error(), "hunter2", doc)
	}
}
