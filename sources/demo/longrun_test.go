package demo

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/sources/cloudwatch"
	"sitroom/sources/tickets/servicenow"
)

// The demo runs for as long as a wall screen does: its CloudWatch and
// ServiceNow stand-ins, polled by the real clients, keep no record of the
// requests they answered (a test server's record grew with every poll).
func TestUpstreamsKeepNoRecordOfPolls(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	d, err := Start(t.Context(), Options{Speed: 1})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	c := d.Config()
	cws, err := cloudwatch.New(c.Sources[3], cloudwatch.Options{})
	require.NoError(t, err)
	desk, err := servicenow.FromConfig(c.Sources[4])
	require.NoError(t, err)

	for range 3 {
		_, err := cws.Fetch(t.Context())
		require.NoError(t, err)
		tickets, err := desk.Fetch(t.Context())
		require.NoError(t, err)
		require.NotEmpty(t, tickets)
	}
	assert.Empty(t, d.cwAPI.Requests(), "CloudWatch requests recorded")
	assert.Empty(t, d.sn.Queries("incident"), "ServiceNow incident queries recorded")
	assert.Empty(t, d.sn.Queries("task_sla"), "ServiceNow SLA queries recorded")
}
