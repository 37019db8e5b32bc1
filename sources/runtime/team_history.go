package runtime

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/model/teamstore"
)

// TeamHistoryEvery is how often, while the team store is reachable, this
// console looks for history records it has not pushed yet.
const TeamHistoryEvery = time.Second

// teamHistoryBatch is how many records of each kind go in one push.
const teamHistoryBatch = 200

// historyViews is what pushing this host's history needs of the team
// store (teamstore.Store).
type historyViews interface {
	PushViews(ctx context.Context, cacheID int64, outages []model.OutageRecord, sources []model.SourceOutage) error
}

// TeamHistory mirrors this host's history into the team store and keeps
// the record of when this host was cut off from it. Every host's console
// records its own outages and source outages in its cache (the fallback,
// and the fast path); TeamHistory pushes the records changed since the
// last push as this host's view (teamstore.Store.PushViews), whenever the
// store is reachable, so a host cut off from the store catches up when it
// is back and loses nothing. The team's history is derived from every
// host's views (teamstore.Store.History).
//
// The team sync calls Connected after each exchange with the store and
// Down when it finds the store down. Safe for concurrent use.
type TeamHistory struct {
	cache *cache.Cache
	log   *slog.Logger

	mu      sync.Mutex
	cacheID int64     // the cache's id in the views; 0 until read
	cut     int8      // -1 unknown, 0 no cut-off open, 1 one open
	checked time.Time // when pending records were last looked for
}

// NewTeamHistory is the mirror of c's history (log may be nil).
func NewTeamHistory(c *cache.Cache, log *slog.Logger) *TeamHistory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &TeamHistory{cache: c, log: log, cut: -1}
}

// Down records that the team sync found the store down at since (the
// first failed attempt): a cut-off begins, recorded in the cache once
// however often it is called.
func (h *TeamHistory) Down(since time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cut == 1 {
		return
	}
	if since.IsZero() {
		since = time.Now()
	}
	if err := h.cache.TeamCutOff(since); err != nil {
		h.log.Warn("team history: recording the cut-off", "err", err)
		return
	}
	h.cut = 1
	h.log.Info("team history: cut off from the team store", "since", since)
}

// Connected is called by the team sync with the store s it just
// exchanged with: an open cut-off ends now, and the records written since
// the last push go up (looked for every TeamHistoryEvery at most). s must
// have PushViews (teamstore.Store does); another store is only used to
// end the cut-off. An error is the store's (or the cache's): the sync
// handles it as its own.
func (h *TeamHistory) Connected(ctx context.Context, s any) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cut != 0 {
		ended, err := h.cache.TeamReconnected(time.Now())
		if err != nil {
			return localError{err}
		}
		if ended {
			h.log.Info("team history: the team store is back")
		}
		h.cut = 0
	}
	v, ok := s.(historyViews)
	if !ok || time.Since(h.checked) < TeamHistoryEvery {
		return nil
	}
	h.checked = time.Now()
	_, err := h.push(ctx, v)
	return err
}

// push sends the records not yet in the store, a batch at a time, and
// reports how many went.
func (h *TeamHistory) push(ctx context.Context, v historyViews) (int, error) {
	if h.cacheID == 0 {
		id, err := h.cache.TeamHistoryID()
		if err != nil {
			return 0, localError{err}
		}
		h.cacheID = id
	}
	n := 0
	for {
		p, err := h.cache.TeamHistoryPending(teamHistoryBatch)
		if err != nil {
			return n, localError{err}
		}
		if p.Empty() {
			return n, nil
		}
		if err := v.PushViews(ctx, h.cacheID, p.Outages, p.Sources); err != nil {
			return n, err
		}
		if err := h.cache.TeamHistoryPushed(p); err != nil {
			return n, localError{err}
		}
		n += len(p.Outages) + len(p.Sources)
		h.log.Debug("team history: pushed", "outages", len(p.Outages), "source_outages", len(p.Sources))
		if len(p.Outages) < teamHistoryBatch && len(p.Sources) < teamHistoryBatch {
			return n, nil
		}
	}
}

// PushTeamHistory pushes every record of this host's history not yet in
// the store s at once (what Connected does every TeamHistoryEvery), and
// reports how many went.
func (h *TeamHistory) PushTeamHistory(ctx context.Context, s *teamstore.Store) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.push(ctx, s)
}

// teamReportTimeout bounds reading the team's history for a report.
const teamReportTimeout = 10 * time.Second

// handoff builds the report of opt from c: in team mode the team's
// history (teamstore.Store.History: the outages every host saw, every
// host's source outages, the operators' actions) with what only this
// host's cache holds (alert episodes, silences, open alerts, pipeline
// episodes, backlog samples), and when this host was cut off from the
// store; this host's history alone, saying so, when the store cannot be
// read. skip (not "") is why the store is not even tried (the sync knows
// it is down).
func handoff(ctx context.Context, c *cache.Cache, cfg *config.Config, opt model.HandoffOptions, skip string) (*model.Handoff, error) {
	from, to := opt.From(), opt.Window.To
	h, err := c.History(from, to)
	if err != nil {
		return nil, err
	}
	if !cfg.TeamMode() {
		return model.BuildHandoff(h, opt), nil
	}
	h.Team.Mode = true
	if h.Team.CutOff, err = c.TeamCutOffs(from, to); err != nil {
		return nil, err
	}
	team, err := teamHistory(ctx, c, cfg, from, to, skip)
	if err != nil {
		h.Team.Unreachable, h.Team.Error = true, err.Error()
		return model.BuildHandoff(h, opt), nil
	}
	h.Outages, h.SourceOutages = team.Outages, team.SourceOutages
	h.Audit, h.Escalations, h.Notes, h.Acks, h.AcksNow = team.Audit, team.Escalations, team.Notes, team.Acks, team.AcksNow
	return model.BuildHandoff(h, opt), nil
}

// teamHistory reads the team's history of [from, to) from the store cfg
// names (teamReport).
func teamHistory(ctx context.Context, c *cache.Cache, cfg *config.Config, from, to time.Time, skip string) (*model.History, error) {
	var h *model.History
	err := teamReport(ctx, c, cfg, skip, func(s *teamstore.Store) (err error) {
		h, err = s.History(ctx, from, to)
		return err
	})
	return h, err
}

// teamReport opens the store cfg names for a report, on a connection of
// its own, pushes what this host's history holds that the store does not
// yet (what the team sync does every TeamHistoryEvery; a report is never
// behind its own host), and reads it with read. skip, when set, is why
// the store is not to be asked (the console's sync finds it down).
func teamReport(ctx context.Context, c *cache.Cache, cfg *config.Config, skip string, read func(*teamstore.Store) error) error {
	if skip != "" {
		return errors.New(skip)
	}
	ctx, cancel := context.WithTimeout(ctx, teamReportTimeout)
	defer cancel()
	host, _ := os.Hostname()
	s, err := teamstore.Open(ctx, teamstore.Options{URL: cfg.Team.Postgres, PasswordFile: cfg.TeamPasswordFile(), Host: host})
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := NewTeamHistory(c, nil).PushTeamHistory(ctx, s); err != nil {
		return err
	}
	return read(s)
}
