package config

import (
	"strconv"
	"strings"
	"time"

	pmodel "github.com/prometheus/common/model"

	"sitroom/model"
)

// Defaults of the history settings.
const (
	// DefaultRetention is history.keep's default: a year of stats and
	// then some.
	DefaultRetention = 400 * 24 * time.Hour
	// DefaultKeepAlerts is history.keep_alerts' default: the resolved
	// alert rows, with their labels, the handoff reads.
	DefaultKeepAlerts  = 30 * 24 * time.Hour
	DefaultOutageGrace = 2 * time.Minute
)

// HistoryKeep is the `history:` block: how long history is kept.
type HistoryKeep struct {
	// Keep bounds the compact history (outages, source outages, actions,
	// notes, alert rollups, closed tickets, backlog samples); default
	// 400d. The top-level `retention` is its older name.
	Keep pmodel.Duration `yaml:"keep,omitempty"`
	// KeepAlerts bounds the resolved alert rows with their labels and
	// annotations (the bulk of the file; the handoff lists them, stats
	// read the rollups instead); default 30d, at most keep.
	KeepAlerts pmodel.Duration `yaml:"keep_alerts,omitempty"`
}

// History holds the settings of the history kept for shift handoffs; its
// keys sit at the top level of the file.
type History struct {
	// Retention is history.keep's older name.
	Retention pmodel.Duration `yaml:"retention,omitempty"`
	// Keep is the `history:` block: how long history is kept.
	Keep HistoryKeep `yaml:"history,omitempty"`
	// OutageGrace is how long an outage must stay gone before it counts as
	// closed, so a flapping alert is one outage; default 2m.
	OutageGrace pmodel.Duration `yaml:"outage_grace,omitempty"`
	// Shifts says when shifts start, for `sitroom handoff` and `h`.
	Shifts Shifts `yaml:"shifts,omitempty"`
}

// Shifts are the shift boundaries: the same local times every day in one
// time zone.
type Shifts struct {
	// Zone is an IANA time zone name (Europe/London); default the host's.
	Zone string `yaml:"zone,omitempty"`
	// Starts are the local start times, "HH:MM"; default 07:00, 15:00, 23:00.
	Starts []string `yaml:"starts,omitempty"`
}

// HistoryRetention is history.keep (or its older name retention) with
// its default.
func (c *Config) HistoryRetention() time.Duration {
	switch {
	case c.Keep.Keep > 0:
		return time.Duration(c.Keep.Keep)
	case c.Retention > 0:
		return time.Duration(c.Retention)
	}
	return DefaultRetention
}

// AlertRetention is history.keep_alerts with its default, never longer
// than HistoryRetention.
func (c *Config) AlertRetention() time.Duration {
	d := DefaultKeepAlerts
	if c.Keep.KeepAlerts > 0 {
		d = time.Duration(c.Keep.KeepAlerts)
	}
	return min(d, c.HistoryRetention())
}

// Grace is outage_grace with its default.
func (c *Config) Grace() time.Duration {
	if c.OutageGrace > 0 {
		return time.Duration(c.OutageGrace)
	}
	return DefaultOutageGrace
}

// ShiftSchedule is the shift schedule (defaults filled in). Call it after
// Validate; an invalid zone or start falls back to the default.
func (c *Config) ShiftSchedule() model.ShiftSchedule {
	s := model.ShiftSchedule{Zone: time.Local}
	if c.Shifts.Zone != "" {
		if loc, err := time.LoadLocation(c.Shifts.Zone); err == nil {
			s.Zone = loc
		}
	}
	for _, st := range c.Shifts.Starts {
		if d, ok := parseClock(st); ok {
			s.Starts = append(s.Starts, d)
		}
	}
	return s
}

// parseClock reads "HH:MM" (00:00 to 23:59) as an offset from midnight.
func parseClock(s string) (time.Duration, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, true
}

func (v *validator) history() {
	c := v.c
	if c.Retention != 0 && c.Keep.Keep != 0 {
		v.errorf("history.keep", "history.keep and retention (its older name) are both set: keep history.keep only")
	}
	if c.Retention != 0 && time.Duration(c.Retention) < 24*time.Hour {
		v.errorf("retention", "retention %s is too short: at least 1d, so the previous shift can be compared", c.Retention)
	}
	if c.Keep.Keep < 0 || (c.Keep.Keep != 0 && time.Duration(c.Keep.Keep) < 24*time.Hour) {
		v.errorf("history.keep", "history.keep %s is too short: at least 1d, so the previous shift can be compared", c.Keep.Keep)
	}
	if c.Keep.KeepAlerts < 0 || (c.Keep.KeepAlerts != 0 && time.Duration(c.Keep.KeepAlerts) < 24*time.Hour) {
		v.errorf("history.keep_alerts", "history.keep_alerts %s is too short: at least 1d, so the previous shift's alerts are listed", c.Keep.KeepAlerts)
	} else if c.Keep.KeepAlerts != 0 && time.Duration(c.Keep.KeepAlerts) > c.HistoryRetention() {
		v.errorf("history.keep_alerts", "history.keep_alerts %s is longer than history.keep %s: the alert rows go with the rest of the history",
			c.Keep.KeepAlerts, pmodel.Duration(c.HistoryRetention()))
	}
	if c.OutageGrace < 0 || time.Duration(c.OutageGrace) > time.Hour {
		v.errorf("outage_grace", "outage_grace %s must be between 0s and 1h", c.OutageGrace)
	}
	if z := c.Shifts.Zone; z != "" {
		if _, err := time.LoadLocation(z); err != nil || hasControl(z) {
			v.errorf("shifts.zone", "unknown time zone %q (want an IANA name such as Europe/London)", clip(z))
		}
	}
	seen := map[time.Duration]int{}
	for i, st := range c.Shifts.Starts {
		p := "shifts.starts[" + strconv.Itoa(i) + "]"
		d, ok := parseClock(st)
		if !ok {
			v.errorf(p, "bad start time %q (want HH:MM, 00:00 to 23:59)", clip(st))
			continue
		}
		if j, dup := seen[d]; dup {
			v.errorf(p, "duplicate start time %q (also shifts.starts[%d])", st, j)
		}
		seen[d] = i
	}
}

// SeenLateAfter is how long after an outage began a console may first see
// it before the handoff says it was seen late: two poll intervals of the
// slowest alert source (DefaultInterval for sources that name none).
func (c *Config) SeenLateAfter() time.Duration {
	longest := DefaultInterval
	for _, s := range c.Sources {
		if IsTicketType(s.Type) {
			continue
		}
		longest = max(longest, time.Duration(s.Interval))
	}
	return 2 * longest
}

// HandoffOptions are the report's options for span at now: the windows
// from the shift schedule, when an outage counts as seen late, and with
// teams configured the catalog and those teams, for the impacted teams
// never told of an outage.
func (c *Config) HandoffOptions(span model.HandoffSpan, now time.Time) model.HandoffOptions {
	opt := model.HandoffOptionsAt(c.ShiftSchedule(), span, now)
	opt.LateAfter = c.SeenLateAfter()
	opt.Threshold = c.Threshold()
	if len(c.Teams) > 0 {
		opt.Catalog = c.Catalog()
		for _, t := range c.Teams {
			opt.NotifyTeams = append(opt.NotifyTeams, t.Name)
		}
	}
	return opt
}
