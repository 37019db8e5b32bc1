package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/model/teamstore"
)

// NOC statistics (`sitroom stats` and the console's Stats view): the
// facts of a span read from the cache, and in team mode the team's
// outages and actions from the team store with this host's alert volume,
// flapping alerts and tickets, turned into figures by model.BuildStats.
// (stats.go is about this process' own figures, the `runtime` log line.)

// StatsDefaultSince is the span of `sitroom stats` without --since or
// --from.
const StatsDefaultSince = 30 * 24 * time.Hour

// StatsRequest is what `sitroom stats` was asked for.
type StatsRequest struct {
	// Since is the span up to now. A whole number of days starts at
	// local midnight: 7d is today and the six days before it.
	Since time.Duration
	// From and To are the --from and --to dates (2006-01-02 in the
	// shifts' zone, or RFC 3339); To's day is included. Either replaces
	// Since: From alone runs to now.
	From, To string
	Service  string // only this service
	Team     string // only the services this team owns (config services' owner)
	Shift    string // only outages opened in shifts starting at this time ("07:00")
	Bucket   model.StatsBucket
	Top      int
}

// StatsRequestError is a request that cannot be answered as asked: an
// unknown service, team or shift, a bad date. The command exits 2.
type StatsRequestError struct{ Msg string }

func (e *StatsRequestError) Error() string { return e.Msg }

func badStats(format string, a ...any) error {
	return &StatsRequestError{Msg: fmt.Sprintf(format, a...)}
}

// NocStats is `sitroom stats`: the statistics req asks for at now, from
// the cache o names (it must exist; read on a pooled connection, so a
// console may be running), in team mode from the team store too (this
// host's history alone, saying so, when it cannot be read). Without a
// config file the shifts are the default ones in the host's time zone.
func NocStats(o Options, req StatsRequest, now time.Time) (*model.Stats, error) {
	cfg, err := reportConfig(o)
	if err != nil {
		return nil, err
	}
	q, opt, err := statsQuery(cfg, req, now)
	if err != nil {
		return nil, err
	}
	c, err := openReportCache(o)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return nocStats(context.Background(), c, cfg, q, opt, "")
}

// Stats is the figures of the console's Stats view: the last days days
// to now by bucket, of service ("" every service), from the cache, and
// in team mode the team store (while the team sync finds it down, this
// host's history, saying so). It runs SQL: the UI calls it on a worker
// goroutine.
func (r *Runtime) Stats(ctx context.Context, days int, bucket model.StatsBucket, service string) (*model.Stats, error) {
	skip := ""
	if r.Team != nil {
		if st := r.Team.State(); !st.OK && !st.Since.IsZero() {
			skip = st.Error
			if skip == "" {
				skip = "down"
			}
		}
	}
	q, opt, err := statsQuery(r.Config, StatsRequest{Since: time.Duration(days) * 24 * time.Hour, Bucket: bucket, Service: service}, time.Now())
	if err != nil {
		return nil, err
	}
	return nocStats(ctx, r.Cache, r.Config, q, opt, skip)
}

// statsQuery resolves req against the config at now: the span, the
// services, the shift and how BuildStats cuts the facts.
func statsQuery(cfg *config.Config, req StatsRequest, now time.Time) (model.StatsQuery, model.StatsOptions, error) {
	sched := cfg.ShiftSchedule()
	loc := sched.Zone
	if loc == nil {
		loc = time.UTC
	}
	opt := model.StatsOptions{Bucket: req.Bucket, Shifts: sched, Shift: req.Shift, Service: req.Service, Team: req.Team, Top: req.Top, Now: now}
	var q model.StatsQuery
	switch {
	case req.From != "" || req.To != "":
		if req.Since != 0 {
			return q, opt, badStats("--since and --from/--to: give one or the other")
		}
		to := now
		if req.To != "" {
			t, err := statsDate(req.To, loc, true)
			if err != nil {
				return q, opt, badStats("--to %q: %v", req.To, err)
			}
			to = t
		}
		from := to.Add(-StatsDefaultSince)
		if req.From != "" {
			t, err := statsDate(req.From, loc, false)
			if err != nil {
				return q, opt, badStats("--from %q: %v", req.From, err)
			}
			from = t
		}
		if !from.Before(to) {
			return q, opt, badStats("--from %s is not before --to %s", req.From, orNow(req.To))
		}
		q.From, q.To = from, to
	default:
		since := req.Since
		if since <= 0 {
			since = StatsDefaultSince
		}
		q.To = now
		q.From = now.Add(-since)
		if since%(24*time.Hour) == 0 {
			l := now.In(loc)
			q.From = time.Date(l.Year(), l.Month(), l.Day()-int(since/(24*time.Hour))+1, 0, 0, 0, 0, loc)
		}
	}
	q.From, q.To = q.From.UTC(), q.To.UTC()
	if req.Shift != "" {
		var known []string
		for _, s := range sched.Starts {
			known = append(known, model.ShiftLabel(s))
		}
		if len(known) == 0 {
			for _, s := range model.DefaultShiftStarts {
				known = append(known, model.ShiftLabel(s))
			}
		}
		if !slices.Contains(known, req.Shift) {
			return q, opt, badStats("--shift %q: no shift starts then (the shifts start at %s)", req.Shift, strings.Join(known, ", "))
		}
	}
	services, err := statsServices(cfg, req.Service, req.Team)
	if err != nil {
		return q, opt, err
	}
	q.Services = services
	return q, opt, nil
}

func orNow(s string) string {
	if s == "" {
		return "now"
	}
	return s
}

// statsDate reads a --from or --to date: a day (the start of that day in
// loc; with end, the start of the next: the day is included) or an
// RFC 3339 instant.
func statsDate(s string, loc *time.Location, end bool) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New("want a date such as 2026-03-01, or 2026-03-01T07:00:00Z")
}

// statsServices are the services service or team names: service itself,
// or the services the catalog says team owns. A name the config does not
// know is an error listing a few it does. Without services in the config
// any service name is taken as it is.
func statsServices(cfg *config.Config, service, team string) ([]string, error) {
	if service != "" && team != "" {
		return nil, badStats("--service and --team: give one or the other")
	}
	var names []string
	owners := map[string][]string{}
	for _, s := range cfg.Services {
		names = append(names, s.Name)
		if s.Owner != "" {
			owners[s.Owner] = append(owners[s.Owner], s.Name)
		}
	}
	switch {
	case service != "":
		if len(names) > 0 && !slices.Contains(names, service) {
			return nil, badStats("--service %q: no such service in the config (known: %s)", service, few(names))
		}
		return []string{service}, nil
	case team != "":
		if owned := owners[team]; len(owned) > 0 {
			sort.Strings(owned)
			return owned, nil
		}
		teams := make([]string, 0, len(owners))
		for t := range owners {
			teams = append(teams, t)
		}
		if len(teams) == 0 {
			return nil, badStats("--team %q: no service in the config names an owner", team)
		}
		return nil, badStats("--team %q: owns no service in the config (teams owning services: %s)", team, few(teams))
	}
	return nil, nil
}

// few lists up to five names, sorted, saying how many more there are.
func few(names []string) string {
	s := slices.Clone(names)
	sort.Strings(s)
	if len(s) <= 5 {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:5], ", ") + fmt.Sprintf(" and %d more", len(s)-5)
}

// nocStats reads the facts of q and builds the figures: in team mode the
// team's outages and actions (teamstore.Store.StatsFacts) with what only
// this host's cache holds (alert volume, flapping alerts, tickets) and
// when this host was cut off from the store; this host's history alone,
// saying so, when the store cannot be read. skip (not "") is why the
// store is not even tried.
func nocStats(ctx context.Context, c *cache.Cache, cfg *config.Config, q model.StatsQuery, opt model.StatsOptions, skip string) (*model.Stats, error) {
	f, err := c.StatsFacts(q)
	if err != nil {
		return nil, err
	}
	if !cfg.TeamMode() {
		return model.BuildStats(f, opt), nil
	}
	f.Team.Mode = true
	if f.Team.CutOff, err = c.TeamCutOffs(q.From, q.To); err != nil {
		return nil, err
	}
	team, err := teamStatsFacts(ctx, c, cfg, q, skip)
	if err != nil {
		f.Team.Unreachable, f.Team.Error = true, err.Error()
		return model.BuildStats(f, opt), nil
	}
	team.AlertHours, team.TicketHours, team.Flapping, team.HasTickets = f.AlertHours, f.TicketHours, f.Flapping, f.HasTickets
	team.Team = f.Team
	return model.BuildStats(team, opt), nil
}

// teamStatsFacts reads the team's facts of q from the store cfg names
// (teamReport).
func teamStatsFacts(ctx context.Context, c *cache.Cache, cfg *config.Config, q model.StatsQuery, skip string) (*model.StatsFacts, error) {
	var f *model.StatsFacts
	err := teamReport(ctx, c, cfg, skip, func(s *teamstore.Store) (err error) {
		f, err = s.StatsFacts(ctx, q)
		return err
	})
	return f, err
}

// TerminalWidth is the width `sitroom stats` lays its text out for:
// $COLUMNS, else 100; at least 60.
func TerminalWidth() int {
	w, err := strconv.Atoi(os.Getenv("COLUMNS"))
	if err != nil || w <= 0 {
		return 100
	}
	return max(w, 60)
}

// ColorTerminal reports whether w is a terminal that shows colour: a
// character device, NO_COLOR unset or empty, TERM not dumb.
func ColorTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" || os.Getenv("TERM") == "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// SpanWords is req's span in words ("the last 30 days") where it is a
// whole number of days up to now, else "".
func SpanWords(req StatsRequest) string {
	if req.From != "" || req.To != "" {
		return ""
	}
	d := req.Since
	if d <= 0 {
		d = StatsDefaultSince
	}
	if d%(24*time.Hour) != 0 {
		return ""
	}
	if d == 24*time.Hour {
		return "the last day"
	}
	return "the last " + model.Plural(int(d/(24*time.Hour)), "day", "days")
}
