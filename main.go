// Command sitroom is a terminal dashboard for NOC operators: it polls
// Prometheus and Alertmanager into a local SQLite cache and shows live
// outages and alerts. main is the only package that knows every other one:
// it parses the command line, loads the config and wires sources, cache and
// UI together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/cloudwatch"
	"sitroom/sources/demo"
	"sitroom/sources/prometheus"
	"sitroom/ui"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// it comes from the module build info.
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `sitroom — a terminal dashboard for NOC operators

Usage:
  sitroom [--config FILE] [--db FILE] [--read-only] [--theme dark|light|colorblind] [--mouse]
                                                       the dashboard
  sitroom --kiosk [--kiosk-rotate 15s]                 the wall screen: large counters, panels in turn, read-only
  sitroom --demo                                       the dashboard on built-in simulated upstreams
  sitroom poll [--once]                                poll sources into the cache and deliver the outbox, headless
  sitroom check [--config FILE]                        validate the config and probe each source
  sitroom handoff [--since 8h | --shift current|previous] [--format md|json]
                                                       the shift handoff report, from the cache
  sitroom version                                      print the version

Flags:
`

// globalFlags are accepted by the dashboard and every subcommand.
type globalFlags struct {
	config   string
	db       string
	logFile  string
	logLevel string
	readOnly bool
	demo     bool
	once     bool
	theme    string
	kiosk    bool
	rotate   time.Duration
	mouse    bool
}

func newFlagSet(name string, g *globalFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&g.config, "config", config.DefaultPath(), "config file")
	fs.StringVar(&g.db, "db", "", "cache file (default $XDG_STATE_HOME/sitroom/cache.db)")
	fs.StringVar(&g.logFile, "log-file", "", "log file (default $XDG_STATE_HOME/sitroom/sitroom.log)")
	fs.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	switch name {
	case "sitroom":
		fs.BoolVar(&g.readOnly, "read-only", false, "kiosk mode: no action can be taken")
		fs.BoolVar(&g.demo, "demo", false, "run on built-in simulated upstreams (no config needed)")
		fs.StringVar(&g.theme, "theme", "", "colour theme: dark, light or colorblind (default: config theme, else dark; NO_COLOR turns colour off)")
		fs.BoolVar(&g.kiosk, "kiosk", false, "wall screen: large counters, the clock, every source, the panels in turn; read-only, q quits")
		fs.DurationVar(&g.rotate, "kiosk-rotate", ui.KioskRotateDefault, "how long the wall screen shows each panel")
		fs.BoolVar(&g.mouse, "mouse", false, "click to focus a panel and select a row (again to open it); the wheel scrolls")
	case "poll":
		fs.BoolVar(&g.once, "once", false, "poll every source once and exit")
		fs.BoolVar(&g.demo, "demo", false, "poll the built-in simulated upstreams")
	case "check":
		fs.BoolVar(&g.demo, "demo", false, "check the built-in demo config")
	case "handoff":
		fs.BoolVar(&g.demo, "demo", false, "report from the demo's cache (demo.db)")
	}
	return fs
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "sitroom"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var g globalFlags
	switch cmd {
	case "sitroom", "poll", "check":
	case "handoff":
		return runHandoff(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "sitroom", buildVersion())
		return 0
	case "help":
		newFlagSet("sitroom", &g, stdout).Usage()
		return 0
	default:
		fmt.Fprintf(stderr, "sitroom: unknown command %q\n\n", cmd)
		newFlagSet("sitroom", &g, stderr).Usage()
		return 2
	}
	fs := newFlagSet(cmd, &g, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sitroom %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	if g.theme != "" && !slices.Contains(ui.ThemeNames(), g.theme) {
		fmt.Fprintf(stderr, "sitroom: unknown --theme %q (want dark, light or colorblind)\n", g.theme)
		return 2
	}
	if cmd == "sitroom" && g.rotate < time.Second {
		fmt.Fprintf(stderr, "sitroom: --kiosk-rotate %v is too short (at least 1s)\n", g.rotate)
		return 2
	}
	if g.kiosk {
		g.readOnly = true // a wall screen takes no action, whatever the role
	}
	var err error
	switch cmd {
	case "check":
		return runCheck(g, stdout, stderr)
	case "poll":
		err = runPoll(g, stdout)
	default:
		err = runDashboard(g)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sitroom:", err)
		return 1
	}
	return 0
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// stateDir is $XDG_STATE_HOME/sitroom (or ~/.local/state/sitroom).
func stateDir() string {
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

// openLog opens the log file (0600 in a 0700 directory). Nothing is logged
// to the terminal while the screen is up.
func openLog(g globalFlags) (*slog.Logger, io.Closer, error) {
	path := g.logFile
	if path == "" {
		path = filepath.Join(stateDir(), "sitroom.log")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(g.logLevel)); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: lvl})), f, nil
}

// setup is everything a dashboard or poller needs.
type setup struct {
	cfg    *config.Config
	cache  *cache.Cache
	poller *sources.Poller
	log    *slog.Logger
	close  func()
}

// loadConfig reads the config file, or starts the demo upstreams and uses
// their config.
func loadConfig(ctx context.Context, g globalFlags) (*config.Config, func(), error) {
	if g.demo {
		d, err := demo.Start(ctx, demo.Options{Speed: 1, Skip: 25 * time.Second})
		if err != nil {
			return nil, nil, fmt.Errorf("starting the demo upstreams: %w", err)
		}
		return d.Config(), func() { d.Close() }, nil
	}
	cfg, err := config.Load(g.config)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("no config file at %s: pass --config FILE (see README's configuration section), or try sitroom --demo", g.config)
	}
	if err != nil {
		return nil, nil, err
	}
	return cfg, func() {}, nil
}

// newSetup wires config → sources → cache → poller.
// onPanic, when set, is told about a panic in the poller (already logged).
func newSetup(ctx context.Context, g globalFlags, onPanic func(any, []byte)) (*setup, error) {
	logger, logCloser, err := openLog(g)
	if err != nil {
		return nil, err
	}
	cfg, stopDemo, err := loadConfig(ctx, g)
	if err != nil {
		logCloser.Close()
		return nil, err
	}
	// Config warnings (a file others can read that holds secrets) are
	// said on stderr, before any screen, as well as in the log.
	for _, w := range cfg.Warnings() {
		logger.Warn("config", "warning", w)
		fmt.Fprintln(os.Stderr, "sitroom: warning:", w)
	}
	dbPath := g.db
	if dbPath == "" {
		if g.demo {
			dbPath = filepath.Join(stateDir(), "demo.db")
		} else {
			dbPath = filepath.Join(stateDir(), "cache.db")
		}
	}
	// A cache file that is not SQLite, or corrupt, is moved aside with the
	// operators' record copied out of it (cache.OpenRecover); that is said
	// once on stderr, before any screen, and in the log.
	c, rec, err := cache.OpenRecover(dbPath)
	if rec != nil {
		logger.Warn("cache moved aside", "warning", rec.String())
		fmt.Fprintln(os.Stderr, "sitroom: warning:", rec)
	}
	if err != nil {
		stopDemo()
		logCloser.Close()
		return nil, err
	}
	jobs, err := buildJobs(cfg)
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
		Logger:          logger,
		Holder:          fmt.Sprintf("%s:%d", host, os.Getpid()),
		OnPanic:         onPanic,
		History: sources.NewHistoryRecorder(c, sources.HistoryOptions{
			Grace: cfg.Grace(), Retention: cfg.HistoryRetention(), Logger: logger}),
	})
	return &setup{cfg: cfg, cache: c, poller: p, log: logger, close: func() {
		c.Close()
		stopDemo()
		logCloser.Close()
	}}, nil
}

// sourceFactories is the registry of source types.
var sourceFactories = map[string]func(cfg config.Source) (sources.Source, error){
	"prometheus": func(cfg config.Source) (sources.Source, error) {
		hc, err := sources.NewHTTPClient(cfg.HTTP, cfg.Name)
		if err != nil {
			return nil, err
		}
		return prometheus.New(cfg.Name, cfg.URL, hc, cfg.MatchIgnoreLabels), nil
	},
	"alertmanager": func(cfg config.Source) (sources.Source, error) {
		hc, err := sources.NewHTTPClient(cfg.HTTP, cfg.Name)
		if err != nil {
			return nil, err
		}
		return alertmanager.New(cfg.Name, cfg.URL, hc, cfg.MatchIgnoreLabels), nil
	},
	cloudwatch.Type: func(cfg config.Source) (sources.Source, error) {
		return cloudwatch.New(cfg, cloudwatch.Options{IgnoreLabels: cfg.MatchIgnoreLabels})
	},
}

// buildJobs makes one polling job per configured source. The labels any
// source names in match_ignore_labels are ignored by every source when
// alerts are matched across sources: a Prometheus source names its external
// labels, which only the Alertmanagers it feeds ever see.
func buildJobs(cfg *config.Config) ([]sources.Job, error) {
	var ignore []string
	seen := map[string]bool{}
	for _, sc := range cfg.Sources {
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
		if config.IsTicketType(sc.Type) {
			ts, err := newTicketSource(sc)
			if err != nil {
				return nil, fmt.Errorf("sources[%d] (%s): %w", i, sc.Name, err)
			}
			jobs = append(jobs, sources.Job{Tickets: ts, Interval: time.Duration(sc.Interval), Timeout: time.Duration(sc.Timeout)})
			continue
		}
		f := sourceFactories[sc.Type]
		if f == nil {
			return nil, fmt.Errorf("sources[%d].type: unsupported source type %q", i, sc.Type)
		}
		src, err := f(sc)
		if err != nil {
			return nil, fmt.Errorf("sources[%d] (%s): %w", i, sc.Name, err)
		}
		jobs = append(jobs, sources.Job{Source: src, Interval: time.Duration(sc.Interval), Timeout: time.Duration(sc.Timeout)})
	}
	return jobs, nil
}

func operator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if v := os.Getenv("USER"); v != "" {
		return v
	}
	return "unknown"
}

// panicStop makes the hook that turns a panic in the poller (already
// logged) into an error on the returned channel and cancels the run.
func panicStop(cancel context.CancelFunc) (<-chan error, func(any, []byte)) {
	panicked := make(chan error, 1)
	return panicked, func(p any, _ []byte) {
		select {
		case panicked <- fmt.Errorf("internal error in the poller: %v (details in the log)", p):
		default:
		}
		cancel()
	}
}

// previewRows is how many of the most severe open alerts the dashboard
// shows from the cache before it has loaded them all.
const previewRows = 500

func runDashboard(g globalFlags) (err error) {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer cancel()
	// A panic in the poller stops the dashboard (restoring the terminal)
	// and makes the process exit non-zero.
	panicked, onPanic := panicStop(cancel)
	s, err := newSetup(ctx, g, onPanic)
	if err != nil {
		return err
	}
	defer s.close()
	disp, err := newDispatcher(s.cfg, s.cache, s.poller, g.readOnly, s.log)
	if err != nil {
		return err
	}
	theme := g.theme
	if theme == "" {
		theme = string(s.cfg.Theme)
	}
	feed := observe(s.poller, disp)
	app := ui.New(ui.Options{
		Theme:       theme,
		Term:        os.Getenv("TERM"),
		Feed:        feed,
		Operator:    operator(),
		ReadOnly:    g.readOnly,
		Kiosk:       g.kiosk,
		KioskRotate: g.rotate,
		Mouse:       g.mouse,
		Version:     buildVersion(),
		Logger:      s.log,
		Actor:       disp,
		Handoff:     handoffSource{c: s.cache, sched: s.cfg.ShiftSchedule()},
		// Local runbooks open in the terminal with o.
		RunbooksDir: s.cfg.RunbookDir(),
		RunbooksURL: s.cfg.RunbooksURL,
		// Remapped keys and named views (config keys, views).
		Keys:  uiKeys(s.cfg),
		Views: uiViews(s.cfg),
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		dispDone := make(chan struct{})
		go func() {
			defer close(dispDone)
			disp.Run(ctx)
		}()
		if !g.kiosk {
			// The most severe alerts first, while the cache loads the
			// rest; the wall screen's counters wait for all of them.
			feed.preview(previewRows, s.log)
		}
		s.poller.Run(ctx)
		<-dispDone
	}()
	go func() {
		<-ctx.Done()
		app.Stop()
	}()
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error: %v (details in the log)", p)
		}
		cancel()
		<-done
		select {
		case perr := <-panicked:
			err = perr
		default:
		}
		s.log.Info("dashboard stopped", "err", err)
	}()
	s.log.Info("dashboard started", "version", buildVersion(), "sources", len(s.cfg.Sources))
	go logRuntime(ctx, s.log)
	return app.Run()
}

func runPoll(g globalFlags, stdout io.Writer) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer cancel()
	panicked, onPanic := panicStop(cancel)
	s, err := newSetup(ctx, g, onPanic)
	if err != nil {
		return err
	}
	defer s.close()
	if g.once {
		opened := s.cache.Recovered()
		err := s.poller.PollOnce(ctx)
		snap, serr := s.poller.Snapshot()
		if rec := s.cache.Recovered(); rec != opened {
			// Found corrupt past what Open reads, and replaced (logged
			// by the poller), like a file found so at Open.
			fmt.Fprintln(os.Stderr, "sitroom: warning:", rec)
		}
		if serr == nil {
			fmt.Fprintf(stdout, "polled %d sources: %d outages, %d firing, %d pending, %d silenced\n",
				len(s.cfg.Sources), snap.Counts.Outages, snap.Counts.Firing, snap.Counts.Pending, snap.Counts.Suppressed)
		}
		// One pass over the outbox too: what a process that died left
		// undelivered goes out now (exactly once: see sources/actions).
		disp, derr := newDispatcher(s.cfg, s.cache, s.poller, true, s.log)
		if derr == nil {
			if snap != nil {
				disp.Observe(snap)
			}
			derr = disp.DeliverDue(ctx)
		}
		return errors.Join(err, serr, derr)
	}
	s.log.Info("headless poller started", "sources", len(s.cfg.Sources))
	go logRuntime(ctx, s.log)
	fmt.Fprintf(stdout, "polling %d sources into %s (Ctrl-C to stop)\n", len(s.cfg.Sources), s.cache.Path())
	// The headless poller also delivers the outbox and clears the acks of
	// resolved outages for every console attached to the cache.
	disp, err := newDispatcher(s.cfg, s.cache, s.poller, true, s.log)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	said := ""
	if rec := s.cache.Recovered(); rec != nil {
		said = rec.Note() // said at start already
	}
	go func() {
		for snap := range s.poller.Snapshots() {
			// A cache found corrupt after it opened is replaced (and
			// logged by the poller); say so on stderr as at start.
			if snap.CacheNote != "" && snap.CacheNote != said {
				said = snap.CacheNote
				fmt.Fprintln(os.Stderr, "sitroom: warning:", said)
			}
			disp.Observe(snap)
		}
		close(done)
	}()
	dispDone := make(chan struct{})
	go func() {
		defer close(dispDone)
		disp.Run(ctx)
	}()
	s.poller.Run(ctx)
	<-done
	<-dispDone
	select {
	case err := <-panicked:
		return err
	default:
	}
	return nil
}

// runCheck validates the config and probes every source, one line each.
// Secrets never reach its output: only names, types and URLs are printed,
// and URLs may not carry credentials (Validate refuses them).
func runCheck(g globalFlags, stdout, stderr io.Writer) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	cfg, stopDemo, err := loadConfig(ctx, g)
	if err != nil {
		fmt.Fprintln(stderr, "config:", err)
		return 1
	}
	defer stopDemo()
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(stdout, "warning:", w)
	}
	if dir := cfg.RunbookDir(); dir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			fmt.Fprintf(stdout, "warning: runbooks_dir %s is not a directory: local runbooks will not open\n", dir)
		}
	}
	fmt.Fprintf(stdout, "config ok: %d sources, %d services\n", len(cfg.Sources), len(cfg.Services))
	jobs, err := buildJobs(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "config:", err)
		return 1
	}
	failed := 0
	for i, j := range jobs {
		timeout := j.Timeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		where := cfg.Sources[i].URL
		if j.Tickets != nil {
			pctx, pcancel := context.WithTimeout(ctx, timeout)
			start := time.Now()
			list, err := j.Tickets.Fetch(pctx)
			pcancel()
			if err != nil {
				failed++
				fmt.Fprintf(stdout, "FAIL  %-16s %-12s %s  %v\n", j.Name(), j.Type(), where, err)
				continue
			}
			fmt.Fprintf(stdout, "ok    %-16s %-12s %s  %d open tickets in %s\n", j.Name(), j.Type(), where, len(list),
				time.Since(start).Round(100*time.Microsecond))
			continue
		}
		if cws, ok := j.Source.(*cloudwatch.Source); ok {
			// CloudWatch: say which identity the credential chain resolved
			// (or why none), then probe the alarms. Only the account, ARN
			// and region are printed, never a key.
			where = cfg.Sources[i].Region
			if p := cfg.Sources[i].Profile; p != "" {
				where += " profile " + p
			}
			ictx, icancel := context.WithTimeout(ctx, timeout)
			id, err := cws.Identity(ictx)
			icancel()
			if err != nil {
				failed++
				fmt.Fprintf(stdout, "FAIL  %-16s %-12s %s  identity: %v\n", j.Source.Name(), j.Source.Type(), where, err)
				continue
			}
			where += " account " + id.Account + " as " + id.ARN
		}
		pctx, pcancel := context.WithTimeout(ctx, timeout)
		start := time.Now()
		alerts, err := j.Source.Fetch(pctx)
		pcancel()
		took := time.Since(start).Round(100 * time.Microsecond)
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "FAIL  %-16s %-12s %s  %v\n", j.Source.Name(), j.Source.Type(), where, err)
			continue
		}
		fmt.Fprintf(stdout, "ok    %-16s %-12s %s  %d alerts in %s\n", j.Source.Name(), j.Source.Type(), where, len(alerts), took)
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of %d sources failed\n", failed, len(jobs))
		return 1
	}
	return 0
}
