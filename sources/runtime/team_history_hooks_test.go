package runtime

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
)

// viewsStore records what TeamHistory pushes, failing while down.
type viewsStore struct {
	down    bool
	pushes  int
	outages map[int64]model.OutageRecord
}

func (s *viewsStore) PushViews(_ context.Context, cacheID int64, outages []model.OutageRecord, _ []model.SourceOutage) error {
	if s.down {
		return errors.New("connection refused")
	}
	s.pushes++
	for _, o := range outages {
		s.outages[o.ID] = o
	}
	return nil
}

// The hooks the team sync calls: Down records one cut-off however often
// the store is found down, Connected ends it and pushes what the host
// recorded, again only what changed since; a failed push leaves it for
// the next.
func TestTeamHistoryHooks(t *testing.T) {
	c, err := cache.Open(filepath.Join(t.TempDir(), "cache.db"))
	require.NoError(t, err)
	defer c.Close()
	h := NewTeamHistory(c, nil)
	s := &viewsStore{outages: map[int64]model.OutageRecord{}}
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour)

	id, err := c.OpenOutage(model.OutageRecord{Service: "checkout", Severity: model.SevCritical, Opened: t0, FirstSeen: t0, Alerts: 1})
	require.NoError(t, err)
	h.Down(t0)
	h.Down(t0.Add(time.Second))
	cuts, err := c.TeamCutOffs(t0.Add(-time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, cuts, 1)
	assert.True(t, cuts[0].To.IsZero(), "still cut off")

	s.down = true
	err = h.Connected(ctx, s)
	require.Error(t, err, "the push failed: the sync handles it as the store's failure")
	var le localError
	assert.False(t, errors.As(err, &le), "not the cache's")
	s.down = false
	h.checked = time.Time{} // the next look is due
	require.NoError(t, h.Connected(ctx, s))
	cuts, err = c.TeamCutOffs(t0.Add(-time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, cuts, 1)
	assert.False(t, cuts[0].To.IsZero(), "ended when the store was reached")
	require.Contains(t, s.outages, id, "pushed once the store was back")
	assert.Equal(t, 1, s.pushes)

	h.checked = time.Time{}
	require.NoError(t, h.Connected(ctx, s))
	assert.Equal(t, 1, s.pushes, "nothing changed, nothing pushed")
	require.NoError(t, c.CloseOutage(id, t0.Add(time.Minute), false))
	require.NoError(t, h.Connected(ctx, s))
	assert.Equal(t, 1, s.pushes, "looked for at most every TeamHistoryEvery")
	h.checked = time.Time{}
	require.NoError(t, h.Connected(ctx, s))
	assert.Equal(t, 2, s.pushes)
	assert.True(t, s.outages[id].Closed.Equal(t0.Add(time.Minute)), "the close went up")

	require.NoError(t, h.Connected(ctx, struct{}{}), "a store without views only ends a cut-off")
}
