package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPipelineOutagesKey(t *testing.T) {
	const src = "sources: [{name: prom, type: prometheus, url: 'http://127.0.0.1:9090'}]\n"
	for _, tc := range []struct {
		name, doc string
		want      bool
	}{
		{"default on", src, true},
		{"set false", "pipeline_outages: false\n" + src, false},
		{"set true", "pipeline_outages: true\n" + src, true},
		{"null leaves the default", "pipeline_outages:\n" + src, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.doc), "")
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.PipelineOutagesOn())
		})
	}
	assert.True(t, Default().PipelineOutagesOn(), "a hand-built config has them on")

	_, err := Parse([]byte("pipeline_outages: [yes]\n"+src), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 1: pipeline_outages: want true or false, got a list")
	_, err = Parse([]byte("pipeline_outage: false\n"+src), "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 1: pipeline_outage: unknown key")
}
