package cwtest

import (
	"context"
	"testing"

	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server that runs as long as a process (the demo's) keeps no record of
// the requests it answered once RecordRequests(false), and still answers.
func TestRecordRequestsOff(t *testing.T) {
	srv, url := serve(t)
	c := client(t, url, "eu-west-1", key, secret, nil)
	describe := func() {
		t.Helper()
		out, err := c.DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{})
		require.NoError(t, err)
		require.Len(t, out.MetricAlarms, 1)
	}
	describe()
	require.Len(t, srv.Requests(), 1)

	srv.RecordRequests(false)
	assert.Empty(t, srv.Requests(), "turning the record off forgets it")
	for range 3 {
		describe()
	}
	assert.Empty(t, srv.Requests(), "recording off")

	srv.RecordRequests(true)
	describe()
	reqs := srv.Requests()
	require.Len(t, reqs, 1, "recording back on")
	assert.Equal(t, "DescribeAlarms", reqs[0].Operation)
}
