package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	pmodel "github.com/prometheus/common/model"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/config"
)

// handoffWindow says which span a handoff report covers: the last Since,
// or the current or previous shift of the schedule.
type handoffWindow struct {
	Since time.Duration // > 0: the last Since
	Shift string        // "current" or "previous" when Since is 0
}

// handoffOptions picks the report's windows at now. The current shift ends
// at now (it is in progress); every figure is then computed from stored
// timestamps within the windows, so a report of a past shift is the same
// whenever it is run.
func handoffOptions(sched model.ShiftSchedule, w handoffWindow, now time.Time) model.HandoffOptions {
	opt := model.HandoffOptions{Zone: sched.Zone}
	if w.Since > 0 {
		d := w.Since
		opt.Window = model.Window{Label: "last " + pmodel.Duration(d).String(), From: now.Add(-d), To: now}
		opt.Previous = model.Window{Label: "the " + pmodel.Duration(d).String() + " before", From: now.Add(-2 * d), To: now.Add(-d)}
		opt.Next = model.Window{Label: "next " + pmodel.Duration(d).String(), From: now, To: now.Add(d)}
		return opt
	}
	from, to := sched.ShiftAt(now)
	label := "current shift"
	if w.Shift == "previous" {
		from, to = sched.Previous(from)
		label = "previous shift"
	}
	loc := sched.Zone
	if loc == nil {
		loc = time.UTC
	}
	name := func(f, t time.Time) string {
		return f.In(loc).Format("Mon 02 Jan 15:04") + "–" + t.In(loc).Format("15:04")
	}
	opt.Window = model.Window{Label: label + " " + name(from, to), From: from, To: to}
	if to.After(now) {
		opt.Window.To = now
		opt.Window.Label += " (in progress)"
	}
	pf, pt := sched.Previous(from)
	opt.Previous = model.Window{Label: "shift " + name(pf, pt), From: pf, To: pt}
	nf, nt := sched.ShiftAt(to)
	opt.Next = model.Window{Label: "shift " + name(nf, nt), From: nf, To: nt}
	return opt
}

// buildHandoff reads the history the report needs and builds it. It runs
// SQL: never call it on the UI goroutine.
func buildHandoff(c *cache.Cache, opt model.HandoffOptions) (*model.Handoff, error) {
	from := opt.Previous.From
	if from.IsZero() || opt.Window.From.Before(from) {
		from = opt.Window.From
	}
	h, err := c.History(from, opt.Window.To)
	if err != nil {
		return nil, err
	}
	return model.BuildHandoff(h, opt), nil
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
	var w handoffWindow
	switch {
	case *since != "":
		d, err := pmodel.ParseDuration(*since)
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "sitroom handoff: --since %q: want a duration such as 8h or 1d\n", *since)
			return 2
		}
		w.Since = time.Duration(d)
	case *shift == "current" || *shift == "previous":
		w.Shift = *shift
	default:
		fmt.Fprintf(stderr, "sitroom handoff: --shift %q: want current or previous\n", *shift)
		return 2
	}
	if *format != "md" && *format != "json" {
		fmt.Fprintf(stderr, "sitroom handoff: --format %q: want md or json\n", *format)
		return 2
	}
	cfg := config.Default()
	if !g.demo {
		c, err := config.Load(g.config)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// no config: default shifts in the host's time zone
		case err != nil:
			fmt.Fprintln(stderr, "sitroom handoff:", err)
			return 1
		default:
			cfg = c
		}
	}
	dbPath := g.db
	if dbPath == "" {
		dbPath = filepath.Join(stateDir(), map[bool]string{true: "demo.db", false: "cache.db"}[g.demo])
	}
	if _, err := os.Stat(dbPath); err != nil {
		fmt.Fprintf(stderr, "sitroom handoff: no cache at %s (pass --db FILE, or run the dashboard or sitroom poll first)\n", dbPath)
		return 1
	}
	c, err := cache.Open(dbPath)
	if err != nil {
		fmt.Fprintln(stderr, "sitroom handoff:", err)
		return 1
	}
	defer c.Close()
	r, err := buildHandoff(c, handoffOptions(cfg.ShiftSchedule(), w, time.Now()))
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

// handoffSource is the dashboard's ui.HandoffSource: the current shift's
// report from the cache. The UI calls it on a worker goroutine.
type handoffSource struct {
	c     *cache.Cache
	sched model.ShiftSchedule
}

// Handoff builds the current shift's report.
func (h handoffSource) Handoff(context.Context) (*model.Handoff, error) {
	return buildHandoff(h.c, handoffOptions(h.sched, handoffWindow{Shift: "current"}, time.Now()))
}
