package cache

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

func episodes(t *testing.T, c *Cache, from, to time.Time) []model.PipelineEpisode {
	t.Helper()
	h, err := c.History(from, to)
	require.NoError(t, err)
	return h.Pipeline
}

// A severe finding opens an episode of the source's alerting pipeline
// history; new upstream words update it, an unchanged read writes nothing,
// the first read without it closes it, and its return is a second episode.
// Another console sharing the file reads the same history, and the handoff
// built from it lists them.
func TestPipelineEpisodeOpensUpdatesCloses(t *testing.T) {
	c, path := openTemp(t)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	rule := func(text string) model.Finding {
		return model.Finding{Kind: model.FindingRule, Subject: "checkout/Errors", Text: text, Severe: true}
	}
	note := model.Finding{Kind: model.FindingNote, Subject: "runtimeinfo not offered", Text: "HTTP 404"}

	_, wrote, err := c.StoreFindings("prom", []model.Finding{rule("found duplicate series"), note}, sec(5))
	require.NoError(t, err)
	require.True(t, wrote)
	other, err := Open(path)
	require.NoError(t, err)
	defer other.Close()
	eps := episodes(t, other, t0, sec(3600))
	require.Len(t, eps, 1, "the failing rule opened an episode; the note did not")
	assert.Equal(t, "prom", eps[0].Source)
	assert.Equal(t, model.FindingRule, eps[0].Kind)
	assert.Equal(t, "checkout/Errors", eps[0].Subject)
	assert.Equal(t, "found duplicate series", eps[0].Text)
	assert.Equal(t, sec(5), eps[0].Began, "began when first seen")
	assert.True(t, eps[0].Ended.IsZero(), "still open")

	// The same read again: nothing written at all.
	db := rawDB(t, path)
	before := dataVersion(t, db)
	_, wrote, err = c.StoreFindings("prom", []model.Finding{rule("found duplicate series"), note}, sec(35))
	require.NoError(t, err)
	assert.False(t, wrote)
	assert.Equal(t, before, dataVersion(t, db), "an unchanged read writes nothing")

	// New upstream words: the same episode, its text updated.
	_, wrote, err = c.StoreFindings("prom", []model.Finding{rule("vector cannot contain metrics with the same labelset"), note}, sec(65))
	require.NoError(t, err)
	require.True(t, wrote)
	eps = episodes(t, other, t0, sec(3600))
	require.Len(t, eps, 1)
	assert.Equal(t, "vector cannot contain metrics with the same labelset", eps[0].Text)
	assert.Equal(t, sec(5), eps[0].Began)

	// Gone (the note stays): closed at the read that no longer has it.
	_, _, err = c.StoreFindings("prom", []model.Finding{note}, sec(95))
	require.NoError(t, err)
	eps = episodes(t, other, t0, sec(3600))
	require.Len(t, eps, 1)
	assert.Equal(t, sec(95), eps[0].Ended)

	// Back: a second episode. The first, ended before the window read, is
	// not in it.
	_, _, err = c.StoreFindings("prom", []model.Finding{rule("found duplicate series")}, sec(125))
	require.NoError(t, err)
	eps = episodes(t, other, t0, sec(3600))
	require.Len(t, eps, 2)
	assert.Equal(t, sec(125), eps[1].Began)
	assert.True(t, eps[1].Ended.IsZero())
	later := episodes(t, other, sec(100), sec(3600))
	require.Len(t, later, 1, "only the episodes overlapping the window")
	assert.Equal(t, sec(125), later[0].Began)

	// The handoff built from the cache lists both.
	w := model.Window{Label: "shift", From: t0, To: sec(3600)}
	r, err := other.Handoff(model.HandoffOptions{Window: w, Previous: model.Window{From: t0.Add(-time.Hour), To: t0}})
	require.NoError(t, err)
	require.Len(t, r.Pipeline, 2)
	assert.Equal(t, "rule checkout/Errors failing", r.Pipeline[0].What)
	assert.Equal(t, int64(90), r.Pipeline[0].Seconds)
	assert.Nil(t, r.Pipeline[1].Ended, "still degraded")
}

// Notes (an endpoint not offered, a refusal) are not degradation: they
// make no episode. Each source's episodes are its own, and a subject of
// its own is another episode.
func TestPipelineNotesMakeNoEpisode(t *testing.T) {
	c, _ := openTemp(t)
	notes := []model.Finding{{Kind: model.FindingNote, Subject: "/api/v1/rules refused", Text: "HTTP 403"}}
	_, wrote, err := c.StoreFindings("prom", notes, t0)
	require.NoError(t, err)
	require.True(t, wrote, "the note is kept with the status")
	assert.Empty(t, episodes(t, c, t0.Add(-time.Hour), t0.Add(time.Hour)))

	split := model.Finding{Kind: model.FindingCluster, Subject: "cluster split (1 of 2 peers)", Text: "settling", Severe: true}
	_, _, err = c.StoreFindings("am-a", []model.Finding{split}, t0.Add(time.Minute))
	require.NoError(t, err)
	_, _, err = c.StoreFindings("am-b", []model.Finding{split}, t0.Add(time.Minute))
	require.NoError(t, err)
	_, _, err = c.StoreFindings("am-a", nil, t0.Add(2*time.Minute))
	require.NoError(t, err)
	eps := episodes(t, c, t0.Add(-time.Hour), t0.Add(time.Hour))
	require.Len(t, eps, 2)
	ended := map[string]time.Time{}
	for _, e := range eps {
		ended[e.Source] = e.Ended
	}
	assert.Equal(t, t0.Add(2*time.Minute), ended["am-a"], "am-a's split closed")
	assert.True(t, ended["am-b"].IsZero(), "am-b's is still open")
}

// An upstream's own Since (a failed reload's time) is when the episode
// began; its bounded text is what the findings column holds.
func TestPipelineEpisodeBeganAndBoundedText(t *testing.T) {
	c, _ := openTemp(t)
	when := t0.Add(-12 * time.Minute)
	long := "reload failed at http://user:pw@prom:9090/-/reload " + strings.Repeat("x", 5000)
	got, _, err := c.StoreFindings("prom", []model.Finding{{Kind: model.FindingReload, Subject: "config reload failed", Text: long,
		Since: when, Severe: true}}, t0)
	require.NoError(t, err)
	eps := episodes(t, c, t0.Add(-time.Hour), t0.Add(time.Hour))
	require.Len(t, eps, 1)
	assert.Equal(t, when, eps[0].Began)
	assert.Equal(t, got[0].Text, eps[0].Text, "bounded as the findings column bounds it")
	assert.NotContains(t, eps[0].Text, "pw@")
}

// Prune drops the episodes that ended before its cutoff and keeps those
// still open, however old, and those of a source no longer configured.
func TestPrunePipelineHistory(t *testing.T) {
	c, _ := openTemp(t)
	day := 24 * time.Hour
	stuck := model.Finding{Kind: model.FindingStuck, Subject: "node", Severe: true}
	reload := model.Finding{Kind: model.FindingReload, Subject: "config reload failed", Severe: true}
	_, _, err := c.StoreFindings("prom-old", []model.Finding{stuck}, t0)
	require.NoError(t, err)
	_, _, err = c.StoreFindings("prom-old", nil, t0.Add(time.Hour)) // ended 40 days before the prune
	require.NoError(t, err)
	_, _, err = c.StoreFindings("prom-gone", []model.Finding{reload}, t0) // open, its source since removed from the config
	require.NoError(t, err)
	_, _, err = c.StoreFindings("prom-new", []model.Finding{stuck}, t0)
	require.NoError(t, err)
	_, _, err = c.StoreFindings("prom-new", nil, t0.Add(35*day)) // ended after the cutoff
	require.NoError(t, err)

	n, err := c.Prune(t0.Add(30 * day))
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	eps := episodes(t, c, t0.Add(-day), t0.Add(40*day))
	var srcs []string
	for _, e := range eps {
		srcs = append(srcs, e.Source)
	}
	assert.ElementsMatch(t, []string{"prom-gone", "prom-new"}, srcs)
}

// A file at schema version 10 holding severe findings opens their
// episodes as it migrates, from when each began; notes open none.
func TestPipelineMigrationFromVersion10(t *testing.T) {
	c, path := openTemp(t)
	when := t0.Add(-7 * time.Minute)
	_, _, err := c.StoreFindings("am", []model.Finding{
		{Kind: model.FindingCluster, Subject: "cluster split (1 of 3 peers)", Text: "settling", Since: when, Severe: true},
		{Kind: model.FindingNote, Subject: "status not offered"},
	}, t0)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	db := rawDB(t, path)
	for _, q := range append(dropSince13, []string{`DROP TABLE pipeline_history`, `DROP INDEX audit_team`, `ALTER TABLE audit DROP COLUMN team`,
		`ALTER TABLE outbox DROP COLUMN remote`, `DROP INDEX outage_history_team`, `DROP INDEX source_history_team`,
		`ALTER TABLE outage_history DROP COLUMN team`, `ALTER TABLE source_history DROP COLUMN team`, `DROP TABLE team_cutoff`,
		`PRAGMA user_version = 10`}...) {
		_, err = db.Exec(q)
		require.NoError(t, err, q)
	}
	require.NoError(t, db.Close())

	c, err = Open(path)
	require.NoError(t, err)
	defer c.Close()
	eps := episodes(t, c, t0.Add(-time.Hour), t0.Add(time.Hour))
	require.Len(t, eps, 1)
	assert.Equal(t, model.PipelineEpisode{ID: eps[0].ID, Source: "am", Kind: model.FindingCluster,
		Subject: "cluster split (1 of 3 peers)", Text: "settling", Began: when}, eps[0])
	// The next read without it closes it.
	_, _, err = c.StoreFindings("am", nil, t0.Add(time.Minute))
	require.NoError(t, err)
	eps = episodes(t, c, t0.Add(-time.Hour), t0.Add(time.Hour))
	require.Len(t, eps, 1)
	assert.Equal(t, t0.Add(time.Minute), eps[0].Ended)
}
