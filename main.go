// Command sitroom is a terminal dashboard for NOC operators: it polls
// Prometheus, Alertmanager, CloudWatch and ticket desks into a local SQLite
// cache and shows live outages, their dependencies and the backlog. main
// parses the command line, dispatches the subcommands and wires the
// headless runtime (sources/runtime) to the screen (ui).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	pmodel "github.com/prometheus/common/model"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/sources/actions"
	"sitroom/sources/runtime"
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
  sitroom --kiosk [--kiosk-rotate 15s] [--kiosk-stats] the wall screen: large counters, panels in turn, read-only
  sitroom --demo                                       the dashboard on built-in simulated upstreams
  sitroom poll [--once]                                poll sources into the cache and deliver the outbox, headless
  sitroom check [--config FILE] [--warn-only] [--audit]
                                                       validate the config, probe each source and its alerting pipeline;
                                                       --audit: verify the team store's audit log has not been altered
  sitroom handoff [--since 8h | --shift current|previous] [--format md|json]
                                                       the shift handoff report, from the cache
  sitroom stats [--since 30d | --from DATE --to DATE] [--service S | --team T] [--shift HH:MM]
                [--bucket day|week] [--format text|md|json|csv|html] [--top N]
                                                       NOC statistics over weeks (docs/stats.md)
  sitroom team init --admin-url URL [--admin-password-file FILE] [--config FILE]
                                                       as the team store's administrator, once (and after upgrades):
                                                       its schema, the group roles, grants and policies
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
	kstats   bool
	mouse    bool
	warnOnly bool
	audit    bool
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
		fs.BoolVar(&g.kstats, "kiosk-stats", false, "the wall screen shows the Stats view (the last 7 days) after the panels")
		fs.BoolVar(&g.mouse, "mouse", false, "click to focus a panel and select a row (again to open it); the wheel scrolls")
	case "poll":
		fs.BoolVar(&g.once, "once", false, "poll every source once and exit")
		fs.BoolVar(&g.demo, "demo", false, "poll the built-in simulated upstreams")
	case "check":
		fs.BoolVar(&g.demo, "demo", false, "check the built-in demo config")
		fs.BoolVar(&g.warnOnly, "warn-only", false, "report the alerting pipeline's failures without exiting non-zero for them")
		fs.BoolVar(&g.audit, "audit", false, "verify the team store's audit log (its hash chain): fail when a row was altered or removed")
	case "handoff", "stats":
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
	case "stats":
		return runStats(args, stdout, stderr)
	case "team":
		return runTeam(args, stdout, stderr)
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
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer cancel()
		return runtime.Check(ctx, g.options(), stdout, stderr)
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

// options are the runtime's options the flags give.
func (g globalFlags) options() runtime.Options {
	return runtime.Options{ConfigPath: g.config, DBPath: g.db, LogFile: g.logFile, LogLevel: g.logLevel, Demo: g.demo,
		WarnOnly: g.warnOnly, Audit: g.audit}
}

// session is an open runtime under a context that ends on SIGINT,
// SIGTERM or SIGHUP, or on a panic in the poller, which then stops the
// dashboard (restoring the terminal) and makes the process exit non-zero.
type session struct {
	ctx      context.Context
	cancel   context.CancelFunc
	rt       *runtime.Runtime
	panicked <-chan error
}

func open(g globalFlags) (*session, error) {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	panicked, onPanic := runtime.StopOnPanic(cancel)
	opt := g.options()
	opt.OnPanic = onPanic
	rt, err := runtime.Open(ctx, opt)
	if err != nil {
		cancel()
		return nil, err
	}
	return &session{ctx: ctx, cancel: cancel, rt: rt, panicked: panicked}, nil
}

func (s *session) close() {
	s.cancel()
	s.rt.Close()
}

// err is the poller's panic, if there was one, else err.
func (s *session) err(err error) error {
	select {
	case perr := <-s.panicked:
		return perr
	default:
		return err
	}
}

func runDashboard(g globalFlags) (err error) {
	s, err := open(g)
	if err != nil {
		return err
	}
	defer s.close()
	ctx, cancel, rt := s.ctx, s.cancel, s.rt
	disp, err := rt.Dispatcher(g.readOnly)
	if err != nil {
		return err
	}
	feed := rt.Feed(disp)
	if os.Getenv("GOGC") == "" {
		feed.SettleGC(consoleGCPercent)
	}
	app := ui.New(ui.Options{
		Theme:       g.theme, // --theme wins over the config's
		Term:        os.Getenv("TERM"),
		Feed:        feed,
		Operator:    actions.OSUser(),
		ReadOnly:    g.readOnly,
		Kiosk:       g.kiosk,
		KioskRotate: g.rotate,
		KioskStats:  g.kstats,
		Mouse:       g.mouse,
		Version:     buildVersion(),
		Logger:      rt.Log,
		Actor:       disp,
		Handoff:     rt,
		Stats:       statsSource{rt},
		Shifts:      rt.Config.ShiftSchedule(), // the silences view marks those ending next shift

		RunbookRevision: runtime.RunbookRevision, // git, off the UI goroutine
		AlertDetail:     rt,                      // annotations from the cache, off the UI goroutine
	}.WithConsole(rt.Config.ConsoleSettings()))
	// The most severe alerts first, while the cache loads the rest; the
	// wall screen's counters wait for all of them.
	preview := runtime.PreviewRows
	if g.kiosk {
		preview = 0
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rt.Run(ctx, disp, feed, preview)
	}()
	go func() {
		<-ctx.Done()
		app.Stop()
	}()
	defer func() {
		if p := recover(); p != nil {
			rt.Log.Error("panic", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error: %v (details in the log)", p)
		}
		cancel()
		<-done
		err = s.err(err)
		rt.Log.Info("dashboard stopped", "err", err)
	}()
	rt.Log.Info("dashboard started", "version", buildVersion(), "sources", len(rt.Config.Sources))
	return app.Run()
}

// runPoll is `sitroom poll`: headless, until a signal, or once.
func runPoll(g globalFlags, stdout io.Writer) error {
	if g.once {
		oneShotGC()
	}
	s, err := open(g)
	if err != nil {
		return err
	}
	defer s.close()
	if g.once {
		return s.rt.PollOnce(s.ctx, stdout)
	}
	return s.err(s.rt.Serve(s.ctx, stdout))
}

// consoleGCPercent is the GOGC of a dashboard once its first snapshot has
// settled: an idle console of 100k alerts holds about 46 MiB live, and at
// the default it would grow to twice that between collections.
const consoleGCPercent = 25

// oneShotGC tunes the collector for a process that polls once and exits:
// it collects only as the heap nears a soft limit of 256 MiB (GOGC off),
// unless GOGC or GOMEMLIMIT says otherwise. A poll of 10k alerts then
// never collects: at GOGC 400 it still did once, 12 ms beside the decode
// of the reply, for 60 MiB at its peak either way into a warm cache.
func oneShotGC() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(256 << 20)
	}
}

// runTeam is `sitroom team init`: the team store's schema, roles, grants
// and policies, made by its administrator.
func runTeam(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "init" {
		fmt.Fprintln(stderr, "sitroom team: want: sitroom team init --admin-url URL [--admin-password-file FILE] [--config FILE]")
		return 2
	}
	var g globalFlags
	fset := newFlagSet("team init", &g, stderr)
	var ti runtime.TeamInitOptions
	fset.StringVar(&ti.AdminURL, "admin-url", "", "libpq URL of a role with CREATEROLE that owns the team store's database (no password in it)")
	fset.StringVar(&ti.AdminPasswordFile, "admin-password-file", "", "file holding that role's password (else PGPASSWORD, PGPASSFILE or ~/.pgpass)")
	if err := fset.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "sitroom team init: unexpected argument %q\n", fset.Arg(0))
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	return runtime.TeamInit(ctx, g.options(), ti, stdout, stderr)
}

// runHandoff is `sitroom handoff`: the shift handoff report from the cache,
// with no network.
func runHandoff(args []string, stdout, stderr io.Writer) int {
	var g globalFlags
	fset := newFlagSet("handoff", &g, stderr)
	since := fset.String("since", "", "report on the last DURATION (e.g. 8h) instead of a shift")
	shift := fset.String("shift", "current", "current or previous shift (boundaries from the config's shifts)")
	format := fset.String("format", "md", "md (Markdown) or json (docs/handoff.md)")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "sitroom handoff: unexpected argument %q\n", fset.Arg(0))
		return 2
	}
	var span model.HandoffSpan
	switch {
	case *since != "":
		d, err := pmodel.ParseDuration(*since)
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "sitroom handoff: --since %q: want a duration such as 8h or 1d\n", *since)
			return 2
		}
		span.Since = time.Duration(d)
	case *shift == "current" || *shift == "previous":
		span.Shift = *shift
	default:
		fmt.Fprintf(stderr, "sitroom handoff: --shift %q: want current or previous\n", *shift)
		return 2
	}
	if *format != "md" && *format != "json" {
		fmt.Fprintf(stderr, "sitroom handoff: --format %q: want md or json\n", *format)
		return 2
	}
	r, err := runtime.Report(g.options(), span, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "sitroom handoff:", err)
		return 1
	}
	if *format == "json" {
		b, err := r.JSON()
		if err != nil {
			fmt.Fprintln(stderr, "sitroom handoff:", err)
			return 1
		}
		_, _ = stdout.Write(b)
		return 0
	}
	fmt.Fprint(stdout, strings.TrimRight(r.Markdown(), "\n")+"\n\n"+r.TimelineMarkdown())
	return 0
}

// runStats is `sitroom stats`: the NOC statistics from the cache (and the
// team store in team mode), as text, md, json, csv or html.
func runStats(args []string, stdout, stderr io.Writer) int {
	var g globalFlags
	fset := newFlagSet("stats", &g, stderr)
	var req runtime.StatsRequest
	since := fset.String("since", "", "the last DURATION (default 30d); whole days start at local midnight")
	fset.StringVar(&req.From, "from", "", "the first day (2026-03-01), instead of --since")
	fset.StringVar(&req.To, "to", "", "the last day, included (default: up to now)")
	fset.StringVar(&req.Service, "service", "", "only this service")
	fset.StringVar(&req.Team, "team", "", "only the services this team owns (config services' owner)")
	fset.StringVar(&req.Shift, "shift", "", "only outages opened in the shifts starting at HH:MM")
	bucket := fset.String("bucket", "day", "rows by day or week")
	format := fset.String("format", "text", "text, md, json, csv or html (docs/stats.md)")
	fset.IntVar(&req.Top, "top", 10, "how many rows each top list has")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sitroom stats: "+format+"\n", a...)
		return 2
	}
	if fset.NArg() > 0 {
		return bad("unexpected argument %q", fset.Arg(0))
	}
	if *since != "" {
		d, err := pmodel.ParseDuration(*since)
		if err != nil || d <= 0 {
			return bad("--since %q: want a duration such as 7d or 12h", *since)
		}
		req.Since = time.Duration(d)
	}
	if req.Bucket = model.StatsBucket(*bucket); req.Bucket != model.BucketDay && req.Bucket != model.BucketWeek {
		return bad("--bucket %q: want day or week", *bucket)
	}
	if !slices.Contains([]string{"text", "md", "json", "csv", "html"}, *format) {
		return bad("--format %q: want text, md, json, csv or html", *format)
	}
	if req.Top < 1 {
		return bad("--top %d: want at least 1", req.Top)
	}
	s, err := runtime.NocStats(g.options(), req, time.Now())
	var badReq *runtime.StatsRequestError
	if errors.As(err, &badReq) {
		return bad("%s", badReq.Msg)
	}
	var out []byte
	switch {
	case err != nil:
	case *format == "text":
		err = ui.StatsText(stdout, s, ui.StatsTextOptions{Width: runtime.TerminalWidth(), Color: runtime.ColorTerminal(stdout), Span: runtime.SpanWords(req)})
	case *format == "md":
		out = []byte(s.Markdown())
	case *format == "json":
		out, err = s.JSON()
	case *format == "csv":
		out, err = s.CSV()
	default:
		out, err = s.HTML()
	}
	if err == nil {
		_, err = stdout.Write(out)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sitroom stats:", err)
		return 1
	}
	return 0
}

// statsSource is the Stats view's figures, read by the runtime.
type statsSource struct{ rt *runtime.Runtime }

func (s statsSource) Stats(ctx context.Context, q ui.StatsRequest) (*model.Stats, error) {
	return s.rt.Stats(ctx, q.Days, q.Bucket, q.Service)
}
