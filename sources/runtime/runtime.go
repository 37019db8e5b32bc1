// Package runtime is what the dashboard, `sitroom poll` and `sitroom
// check` share, headless: it opens the log, the config (or starts the demo
// upstreams), the cache (recovering a damaged one), builds the sources the
// config names, the poller with its history recorder, and the action
// dispatcher, and runs them. main parses the command line and hands the
// dashboard what Open returns; nothing here knows the screen.
//
// Goroutines: Open and Close are called from one goroutine; Run, Serve
// and PollOnce block until their context ends or their work is done.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/model/teamstore"
	"sitroom/sources"
	"sitroom/sources/actions"
	"sitroom/sources/demo"
	"sitroom/sources/tickets"

	// The source types, each registered by its package.
	"sitroom/sources/alertmanager"
	_ "sitroom/sources/cloudwatch"
	_ "sitroom/sources/prometheus"
	_ "sitroom/sources/tickets/jira"
	_ "sitroom/sources/tickets/rt"
	_ "sitroom/sources/tickets/servicenow"
)

// Options say where the runtime's files are. The zero value reads the
// default config and uses the default state directory.
type Options struct {
	ConfigPath string // the config file; "" for config.DefaultPath()
	DBPath     string // the cache file; "" for cache.db (demo.db) in StateDir
	LogFile    string // the log file; "" for sitroom.log in StateDir
	LogLevel   string // debug, info, warn or error; "" for info
	// Demo starts the built-in simulated upstreams and uses their config.
	Demo bool
	// OnPanic, when set, is told about a panic in the poller (already
	// logged); see StopOnPanic.
	OnPanic func(any, []byte)
	// WarnOnly makes `sitroom check` print what it finds wrong with the
	// alerting pipeline (failing rules, a failed reload, a split cluster,
	// an Alertmanager not receiving) without exiting non-zero for it.
	WarnOnly bool
	// Audit makes `sitroom check` verify the team store's audit log: its
	// hash chain, that no row was altered or removed.
	Audit bool
	// Stderr is where warnings are said before any screen is up (a config
	// others can read holding secrets, a cache moved aside); default
	// os.Stderr.
	Stderr io.Writer
}

// configPath is the config file o names, or the default one.
func (o Options) configPath() string {
	if o.ConfigPath == "" {
		return config.DefaultPath()
	}
	return o.ConfigPath
}

func (o Options) stderr() io.Writer {
	if o.Stderr == nil {
		return os.Stderr
	}
	return o.Stderr
}

// Runtime is everything a dashboard or a headless poller needs, open.
type Runtime struct {
	Config *config.Config
	Cache  *cache.Cache
	Poller *sources.Poller
	Log    *slog.Logger
	// Team keeps the cache and the team store in step (team mode); nil
	// without a team store.
	Team *TeamSync

	stderr io.Writer
	close  func()
}

// StateDir is $XDG_STATE_HOME/sitroom (or ~/.local/state/sitroom): the
// default home of the cache and the log.
func StateDir() string {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "sitroom")
}

// freshDemoCache removes the last demo's cache (demo.db): each demo is a
// new world on new loopback ports, and the last run's alerts and outages
// would otherwise open the screen stale, with their old ages, from
// upstreams that are gone. What the last run recorded stays readable
// with `sitroom handoff --demo` until the next demo starts.
func freshDemoCache(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p) //nolint:errcheck // a file that is not there is fine; one that stays is recovered or reported by the open
	}
}

func (o Options) dbPath() string {
	switch {
	case o.DBPath != "":
		return o.DBPath
	case o.Demo:
		return filepath.Join(StateDir(), "demo.db")
	default:
		return filepath.Join(StateDir(), "cache.db")
	}
}

// OpenLog opens the log file (0600 in a 0700 directory). Nothing is logged
// to the terminal while the screen is up.
func OpenLog(o Options) (*slog.Logger, io.Closer, error) {
	path := o.LogFile
	if path == "" {
		path = filepath.Join(StateDir(), "sitroom.log")
	}
	var lvl slog.Level
	if o.LogLevel != "" {
		if err := lvl.UnmarshalText([]byte(o.LogLevel)); err != nil {
			return nil, nil, fmt.Errorf("--log-level: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: lvl})), f, nil
}

// LoadConfig reads the config file, or starts the demo upstreams and uses
// their config; stop stops the demo (a no-op otherwise).
func LoadConfig(ctx context.Context, o Options) (cfg *config.Config, stop func(), err error) {
	if o.Demo {
		d, err := demo.Start(ctx, demo.Options{Speed: 1, Skip: demo.Opening})
		if err != nil {
			return nil, nil, fmt.Errorf("starting the demo upstreams: %w", err)
		}
		return d.Config(), func() { d.Close() }, nil
	}
	path := o.configPath()
	cfg, err = config.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("no config file at %s: pass --config FILE (see docs/config.md), or try sitroom --demo", path)
	}
	if err != nil {
		return nil, nil, err
	}
	return cfg, func() {}, nil
}

// Open wires config → sources → cache → poller (with its history
// recorder). Config warnings, and a cache found damaged and moved aside,
// are said on o.Stderr and in the log.
func Open(ctx context.Context, o Options) (*Runtime, error) {
	logger, logCloser, err := OpenLog(o)
	if err != nil {
		return nil, err
	}
	cfg, stopDemo, err := LoadConfig(ctx, o)
	if err != nil {
		logCloser.Close()
		return nil, err
	}
	stderr := o.stderr()
	for _, w := range cfg.Warnings() {
		logger.Warn("config", "warning", w)
		fmt.Fprintln(stderr, "sitroom: warning:", w)
	}
	if o.Demo && o.DBPath == "" {
		freshDemoCache(o.dbPath())
	}
	// A cache file that is not SQLite, or corrupt, is moved aside with the
	// operators' record copied out of it (cache.OpenRecover).
	c, rec, err := cache.OpenRecover(o.dbPath())
	if rec != nil {
		logger.Warn("cache moved aside", "warning", rec.String())
		fmt.Fprintln(stderr, "sitroom: warning:", rec)
	}
	if err != nil {
		stopDemo()
		logCloser.Close()
		return nil, err
	}
	jobs, err := Jobs(cfg)
	if err != nil {
		c.Close()
		stopDemo()
		logCloser.Close()
		return nil, err
	}
	host, _ := os.Hostname()
	p := sources.NewPoller(c, jobs, sources.PollerOptions{
		Catalog:         cfg.Catalog(),
		OutageThreshold: cfg.Threshold(),
		PipelineOutages: cfg.PipelineOutagesOn(),
		Logger:          logger,
		Holder:          fmt.Sprintf("%s:%d", host, os.Getpid()),
		OnPanic:         o.OnPanic,
		History: sources.NewHistoryRecorder(c, sources.HistoryOptions{
			Grace: cfg.Grace(), Retention: cfg.HistoryRetention(), AlertRetention: cfg.AlertRetention(), Logger: logger}),
	})
	var team *TeamSync
	if cfg.TeamMode() {
		team = NewTeamSync(c, teamstore.Options{URL: cfg.Team.Postgres, PasswordFile: cfg.TeamPasswordFile(), Host: host,
			Roles: teamstore.Roles(cfg.TeamRoles())},
			teamHolder(host), logger, nil)
	}
	return &Runtime{Config: cfg, Cache: c, Poller: p, Log: logger, Team: team, stderr: stderr, close: func() {
		c.Close()
		stopDemo()
		logCloser.Close()
	}}, nil
}

// Close closes the cache, stops the demo upstreams and closes the log.
func (r *Runtime) Close() { r.close() }

// Jobs makes one polling job per configured source, each built by its
// type's registered factory (sources.New, tickets.New). The labels any
// source names in match_ignore_labels are ignored by every source when
// alerts are matched across sources (an HA Prometheus pair's replica).
// A source that reports on the Alertmanagers its upstream sends to
// (sources.AlertmanagerNamer) is told the Alertmanager sources' names.
func Jobs(cfg *config.Config) ([]sources.Job, error) {
	var ignore []string
	seen := map[string]bool{}
	ams := map[string]string{} // the Alertmanager sources' names by URL
	for _, sc := range cfg.Sources {
		if sc.Type == alertmanager.Type {
			ams[sc.URL] = sc.Name
		}
		for _, l := range sc.MatchIgnoreLabels {
			if !seen[l] {
				seen[l] = true
				ignore = append(ignore, l)
			}
		}
	}
	var jobs []sources.Job
	for i, sc := range cfg.Sources {
		sc.MatchIgnoreLabels = ignore
		j := sources.Job{Interval: time.Duration(sc.Interval), Timeout: time.Duration(sc.Timeout)}
		var err error
		if config.IsTicketType(sc.Type) {
			j.Tickets, err = tickets.New(sc)
		} else {
			j.Source, err = sources.New(sc)
		}
		if err == nil && sc.Type == alertmanager.Type {
			// An Alertmanager's silences are read with its alerts.
			var hc *http.Client
			if hc, err = sources.NewHTTPClient(sc.HTTP, sc.Name); err == nil {
				j.Silences = alertmanager.NewSilencer(sc.URL, hc)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("sources[%d] (%s): %w", i, sc.Name, err)
		}
		if n, ok := j.Source.(sources.AlertmanagerNamer); ok {
			n.NameAlertmanagers(ams)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// StopOnPanic makes the hook (Options.OnPanic) that turns a panic in the
// poller (already logged) into an error on the returned channel and
// cancels the run.
func StopOnPanic(cancel context.CancelFunc) (<-chan error, func(any, []byte)) {
	panicked := make(chan error, 1)
	return panicked, func(p any, _ []byte) {
		select {
		case panicked <- fmt.Errorf("internal error in the poller: %v (details in the log)", p):
		default:
		}
		cancel()
	}
}

// Dispatcher builds the action dispatcher of this runtime's config and
// cache, acting as the current operator; readOnly refuses every action.
//
// In team mode the acks of resolved outages are cleared by the console
// that holds both the polling lease (of its cache) and the team lease,
// and the team's outbox is delivered through this dispatcher while this
// console holds the team lease (TeamSync.DeliverWith). Who acts is the
// operator the team store authenticated, with the role their membership
// gives them (TeamSync.Identify: until the store is reached, the one it
// last named for this cache, or the OS user with the config's role), and
// the store is asked before each action (TeamSync.Gate).
func (r *Runtime) Dispatcher(readOnly bool) (*actions.Dispatcher, error) {
	polling := r.Poller.Polling
	if team := r.Team; team != nil {
		polling = func() bool { return r.Poller.Polling() && team.Leader() }
	}
	d, err := actions.FromConfig(r.Config, r.Cache, polling, readOnly, r.Log)
	if err == nil && r.Team != nil {
		// The board carries the team store's state, and is read again
		// when other consoles' actions were merged.
		d.FollowTeam(r.Team.State)
		r.Team.OnChange(d.Reread)
		r.Team.DeliverWith(d.DeliverOne, d.AttemptTimeout())
		d.SetGate(r.Team.Gate)
		r.Team.Identify(d.Operator(), d.SetOperator)
	}
	return d, err
}

// PreviewRows is how many of the most severe open alerts the dashboard
// shows from the cache before it has loaded them all.
const PreviewRows = 500

// Run runs the dispatcher, the poller and, in team mode, the team sync
// (and the runtime log line) until ctx ends, feeding f. With preview > 0
// it first hands f a preview of the preview most severe cached alerts, so
// the first frame with data does not wait for the cache to load every
// open alert. It returns when all have stopped.
func (r *Runtime) Run(ctx context.Context, d *actions.Dispatcher, f *Feed, preview int) {
	dispDone := make(chan struct{})
	go func() {
		defer close(dispDone)
		d.Run(ctx)
	}()
	go LogRuntime(ctx, r.Log)
	teamDone := make(chan struct{})
	go func() {
		defer close(teamDone)
		if r.Team != nil {
			r.Team.Run(ctx)
		}
	}()
	if preview > 0 {
		f.Preview(preview, r.Log)
	}
	r.Poller.Run(ctx)
	<-dispDone
	<-teamDone
}

// Serve is `sitroom poll`: it polls every source into the cache, delivers
// the outbox and clears the acks of resolved outages for every console
// attached to the cache, until ctx ends. A cache found damaged while it
// runs is replaced (see cache.OpenRecover) and said on stderr.
func (r *Runtime) Serve(ctx context.Context, stdout io.Writer) error {
	r.Log.Info("headless poller started", "sources", len(r.Config.Sources))
	fmt.Fprintf(stdout, "polling %s into %s (Ctrl-C to stop)\n", model.Plural(len(r.Config.Sources), "source", "sources"), r.Cache.Path())
	disp, err := r.Dispatcher(true)
	if err != nil {
		return err
	}
	feed := newFeed(r.Poller, disp, false) // no screen
	said := ""
	if rec := r.Cache.Recovered(); rec != nil {
		said = rec.Note() // said at start already
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for snap := range feed.Snapshots() {
			if snap.CacheNote != "" && snap.CacheNote != said {
				said = snap.CacheNote
				fmt.Fprintln(r.stderr, "sitroom: warning:", said)
			}
		}
	}()
	r.Run(ctx, disp, feed, 0)
	<-done
	return nil
}

// PollOnce is `sitroom poll --once`: one poll of every source (recording
// history if no other process holds the polling lease), a line of counts
// on stdout, and one pass over the outbox, so what a process that died
// left undelivered goes out now (exactly once: see sources/actions).
func (r *Runtime) PollOnce(ctx context.Context, stdout io.Writer) error {
	opened := r.Cache.Recovered()
	// The dispatcher (clients, the operator from the OS user database)
	// is built while the poll's requests are in flight.
	type built struct {
		d   *actions.Dispatcher
		err error
	}
	dispatcher := make(chan built, 1)
	go func() {
		d, err := r.Dispatcher(true)
		dispatcher <- built{d, err}
	}()
	r.Poller.OneShot()
	err := r.Poller.PollOnce(ctx)
	snap, serr := r.Poller.Snapshot()
	if rec := r.Cache.Recovered(); rec != opened {
		// Found corrupt past what Open reads, and replaced (logged by
		// the poller), like a file found so at Open.
		fmt.Fprintln(r.stderr, "sitroom: warning:", rec)
	}
	if serr == nil {
		// The header's counts: silenced and inhibited apart, as the
		// Alertmanager says them.
		fmt.Fprintf(stdout, "polled %s: %s, %d firing, %d pending, %d silenced, %d inhibited\n",
			model.Plural(len(r.Config.Sources), "source", "sources"), model.Plural(snap.Counts.Outages, "outage", "outages"),
			snap.Counts.Firing, snap.Counts.Pending, snap.Counts.Silenced, snap.Counts.Inhibited)
	}
	b := <-dispatcher
	disp, derr := b.d, b.err
	if derr == nil {
		if snap != nil {
			disp.Observe(snap)
		}
		derr = disp.DeliverDue(ctx)
	}
	return errors.Join(err, serr, derr)
}

// Handoff is the dashboard's handoff source (ui.HandoffSource): the
// current shift's report from the cache, and in team mode the team's
// history from the team store (see handoff; while the team sync finds the
// store down, this host's history, saying so). It runs SQL: the UI calls
// it on a worker goroutine.
func (r *Runtime) Handoff(ctx context.Context) (*model.Handoff, error) {
	skip := ""
	if r.Team != nil {
		if st := r.Team.State(); !st.OK && !st.Since.IsZero() {
			skip = st.Error
			if skip == "" {
				skip = "down"
			}
		}
	}
	return handoff(ctx, r.Cache, r.Config, r.Config.HandoffOptions(model.HandoffSpan{Shift: "current"}, time.Now()), skip)
}

// reportConfig is the config a report reads: the file o names, the
// default (default shifts in the host's time zone) when there is none
// or for the demo.
func reportConfig(o Options) (*config.Config, error) {
	if o.Demo {
		return config.Default(), nil
	}
	c, err := config.Load(o.configPath())
	if errors.Is(err, fs.ErrNotExist) {
		return config.Default(), nil
	}
	return c, err
}

// Report is `sitroom handoff`: the report of span at now from the cache
// o names; in team mode, with the team's history read from the team store
// (this host's alone, saying so, when the store cannot be reached).
// Without a config file the shifts are the default ones in the host's
// time zone; the cache must exist.
func Report(o Options, span model.HandoffSpan, now time.Time) (*model.Handoff, error) {
	cfg, err := reportConfig(o)
	if err != nil {
		return nil, err
	}
	c, err := openReportCache(o)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return handoff(context.Background(), c, cfg, cfg.HandoffOptions(span, now), "")
}

// openReportCache opens the cache a report (handoff, stats) reads, which
// must exist: a report never creates one.
func openReportCache(o Options) (*cache.Cache, error) {
	db := o.dbPath()
	if _, err := os.Stat(db); err != nil {
		return nil, fmt.Errorf("no cache at %s (pass --db FILE, or run the dashboard or sitroom poll first)", db)
	}
	return cache.Open(db)
}
