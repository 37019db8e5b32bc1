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
	DefaultRetention   = 30 * 24 * time.Hour
	DefaultOutageGrace = 2 * time.Minute
)

// History holds the settings of the history kept for shift handoffs; its
// keys sit at the top level of the file.
type History struct {
	// Retention is how long history (outages, source outages, actions,
	// notes, resolved alerts) is kept; default 30d.
	Retention pmodel.Duration `yaml:"retention,omitempty"`
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

// HistoryRetention is retention with its default.
func (c *Config) HistoryRetention() time.Duration {
	if c.Retention > 0 {
		return time.Duration(c.Retention)
	}
	return DefaultRetention
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
	if c.Retention != 0 && time.Duration(c.Retention) < 24*time.Hour {
		v.errorf("retention", "retention %s is too short: at least 1d, so the previous shift can be compared", c.Retention)
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
