package config

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunbooksDir(t *testing.T) {
	base := t.TempDir()
	c, err := Parse([]byte("runbooks_dir: runbooks\nrunbooks_url: https://git.example/noc/runbooks/blob/main/\nsources: [{name: a, type: prometheus, url: 'http://p:9090'}]"), base)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(base, "runbooks"), c.RunbookDir(), "a relative runbooks_dir is relative to the config")
	assert.Equal(t, "https://git.example/noc/runbooks/blob/main/", c.RunbooksURL)

	c, err = Parse([]byte("runbooks_dir: /srv/runbooks/../runbooks\nsources: [{name: a, type: prometheus, url: 'http://p:9090'}]"), base)
	require.NoError(t, err)
	assert.Equal(t, "/srv/runbooks", c.RunbookDir())

	c, err = Parse([]byte("sources: [{name: a, type: prometheus, url: 'http://p:9090'}]"), base)
	require.NoError(t, err)
	assert.Empty(t, c.RunbookDir(), "no runbooks_dir: none")
}
