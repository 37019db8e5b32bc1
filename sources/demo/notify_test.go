package demo

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every owner of the demo's catalog is a team with a webhook channel the
// demo's receiver accepts and counts.
func TestDemoTeamsHaveAReceivingWebhook(t *testing.T) {
	d, _ := startDemo(t)
	cfg := d.Config()
	require.Len(t, cfg.Teams, 6, "one team per owner")
	assert.Positive(t, int64(cfg.NotifyAfter))
	for _, team := range cfg.Teams {
		require.Len(t, team.Notify, 1, team.Name)
		resp, err := http.Post(string(team.Notify[0].URL), "application/json", strings.NewReader(`{"service":"db-main"}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusAccepted, resp.StatusCode, team.Name)
	}
	got := d.Notified()
	assert.Equal(t, 1, got["team-data"])
	assert.Len(t, got, 6)
}
