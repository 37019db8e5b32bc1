package alertmanager_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources/alertmanager"
	"sitroom/sources/sourcetest"
)

func health(t *testing.T, src *alertmanager.Source) []model.Finding {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fs, err := src.Health(ctx)
	require.NoError(t, err)
	return fs
}

// An HA pair is healthy while both members see each other; a member
// restarted without its --cluster.peer runs alone and is reported split,
// with how many peers it sees of how many it saw.
func TestIntegrationHealthClusterSplit(t *testing.T) {
	a, b := sourcetest.StartAlertmanagerPair(t)
	srcA, srcB := alertmanager.New("am-a", a.URL, nil, nil), alertmanager.New("am-b", b.URL, nil, nil)
	assert.Empty(t, health(t, srcA), "a healthy member")
	assert.Empty(t, health(t, srcB), "a healthy member")

	b.RestartWithoutPeers(t)
	var fs []model.Finding
	sourcetest.Eventually(t, 20*time.Second, 200*time.Millisecond, func() error {
		fs = health(t, srcB)
		if len(fs) == 0 {
			return fmt.Errorf("am-b not reported split yet")
		}
		return nil
	})
	require.Len(t, fs, 1, "%+v", fs)
	assert.Equal(t, model.FindingCluster, fs[0].Kind)
	assert.Equal(t, "cluster split (1 of 2 peers)", fs[0].Subject)
	assert.True(t, fs[0].Severe)
	st := model.SourceStatus{Name: "am-b", LastAttempt: time.Now(), LastSuccess: time.Now(), Findings: fs}
	assert.Equal(t, model.HealthDegraded, st.Health())
	assert.Equal(t, "cluster split (1 of 2 peers)", st.PipelineReason(time.Now()))
}

// A lone Alertmanager (clustering off) has nothing to report.
func TestIntegrationHealthAlone(t *testing.T) {
	am := sourcetest.StartAlertmanager(t)
	assert.Empty(t, health(t, alertmanager.New("am", am.URL, nil, nil)))
}
