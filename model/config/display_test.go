package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTheme(t *testing.T) {
	c, err := Parse([]byte("theme: colorblind\nsources: [{name: a, type: prometheus, url: 'http://p:9090'}]"), "")
	require.NoError(t, err)
	assert.Equal(t, ThemeName("colorblind"), c.Theme)

	c, err = Parse([]byte("sources: [{name: a, type: prometheus, url: 'http://p:9090'}]"), "")
	require.NoError(t, err)
	assert.Empty(t, c.Theme, "no theme: the dashboard's default")

	_, err = Parse([]byte("sources: [{name: a, type: prometheus, url: 'http://p:9090'}]\ntheme: solarized\n"), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 2")
	assert.Contains(t, err.Error(), "theme")
	assert.Contains(t, err.Error(), `unknown theme "solarized" (want dark, light or colorblind)`)

	_, err = Parse([]byte("theme: [dark]\nsources: [{name: a, type: prometheus, url: 'http://p:9090'}]"), "")
	require.Error(t, err, "a list is not a theme")
}
