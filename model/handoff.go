package model

import (
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// HandoffVersion is the version of the report's JSON shape (docs/handoff.md).
const HandoffVersion = 6

// Window is a span of time [From, To) with a label for people.
type Window struct {
	Label string    `json:"label"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

// HandoffOptions say which windows a report covers.
type HandoffOptions struct {
	Window   Window // the shift reported on
	Previous Window // the shift before, for comparison
	// Next is the shift after; silences (sitroom's acks and upstream
	// silences on open outages) that expire within it are listed.
	Next Window
	// Threshold is the outage threshold: an open outage's alerts are its
	// service's open alerts at or above it. SevNone: at or above the
	// outage's own severity.
	Threshold Severity
	// Zone is the time zone times are shown in (Markdown); nil: UTC.
	Zone *time.Location
	// MaxTimeline caps the timeline (oldest events are kept); 0: 1000.
	MaxTimeline int
	// LateAfter is how long after an outage began this console may first
	// see it before the report says it was seen late (two poll intervals
	// of the slowest source); 0: DefaultLateAfter.
	LateAfter time.Duration
	// Catalog gives the teams each outage affected (its owner, the owners
	// downstream, its probable cause's); nil: none is listed as never
	// told.
	Catalog *Catalog
	// NotifyTeams are the teams configured with channels: only they are
	// listed as never told. nil: every owner counts.
	NotifyTeams []string
}

// DefaultLateAfter is HandoffOptions.LateAfter when none is given.
const DefaultLateAfter = time.Minute

// Handoff is the shift handoff report. It is built by BuildHandoff from
// stored history only: the same history and windows give the same report
// whenever it is built. Times are UTC; durations are whole seconds.
type Handoff struct {
	Version          int                 `json:"version"`
	Zone             string              `json:"zone"`
	Window           Window              `json:"window"`
	Previous         Window              `json:"previous"`
	Next             Window              `json:"next"`
	Outages          []HandoffOutage     `json:"outages"`
	Stats            HandoffStats        `json:"stats"`
	PreviousStats    HandoffStats        `json:"previous_stats"`
	Operators        []OperatorActivity  `json:"operators"`
	Refused          []HandoffAction     `json:"refused"`
	Unfinished       []HandoffAction     `json:"unfinished"`
	Backlog          HandoffBacklog      `json:"backlog"`
	SourceOutages    []HandoffSourceDown `json:"source_outages"`
	Pipeline         []HandoffPipeline   `json:"pipeline"`
	ExpiringSilences []ExpiringAck       `json:"expiring_silences"`
	// Notifications say, per outage, which teams were told, and which
	// impacted teams never were (handoff_notify.go).
	Notifications []HandoffNotification `json:"notifications"`
	Notes         []HandoffNote         `json:"notes"`
	Timeline      []TimelineEvent       `json:"timeline"`
	TimelineCut   int                   `json:"timeline_cut"` // events left off the timeline
	// Team is set in team mode: whose history the report reads, and when
	// this host was cut off from the team store (handoff_team.go).
	Team *HandoffTeam `json:"team,omitempty"`

	loc *time.Location
}

// HandoffOutage is one outage that was open at some time in the window.
type HandoffOutage struct {
	Service  string `json:"service"`
	Severity string `json:"severity"` // critical, warning, info
	// Opened is when the outage began: its first alert began firing
	// upstream. FirstSeen is when this console first saw it;
	// SeenLateSeconds (FirstSeen − Opened) is set only when that is more
	// than the options' LateAfter.
	Opened          time.Time `json:"opened"`
	FirstSeen       time.Time `json:"first_seen"`
	SeenLateSeconds *int64    `json:"seen_late_seconds"`
	// Closed is nil while the outage was still open at the window's end.
	// Provisional: it ended within the anti-flap grace before the report
	// was built and may still come back as the same outage.
	Closed      *time.Time `json:"closed"`
	Provisional bool       `json:"provisional"`
	// OpenedInWindow is false for an outage carried over from before.
	OpenedInWindow bool `json:"opened_in_window"`
	// ClosedInWindow is set when it closed within the window.
	ClosedInWindow bool `json:"closed_in_window"`
	// StillOpen: open at the window's end.
	StillOpen   bool             `json:"still_open"`
	Alerts      int              `json:"alerts"`
	FirstAck    *ActionRef       `json:"first_ack"`
	Escalations []EscalationStep `json:"escalations"`
	// DurationSeconds runs from Opened to Closed, or to the window's end.
	DurationSeconds int64 `json:"duration_seconds"`
	// TTASeconds is time to acknowledge (first ack − opened); nil if not
	// acked by the window's end.
	TTASeconds *int64 `json:"tta_seconds"`
	// TTRSeconds is time to resolve (closed − opened); nil while open.
	TTRSeconds *int64 `json:"ttr_seconds"`
	// Acknowledged is the one meaning of acknowledged (docs/handoff.md):
	// for an outage still open, a sitroom ack in force or upstream
	// silences cover every one of its alerts as the report is built; for
	// one that closed, it was acked or silenced.
	Acknowledged bool `json:"acknowledged"`
	// Silences are the upstream silences sitroom did not make on the
	// outage's alerts, ending soonest first.
	Silences []HandoffSilence `json:"silences"`
	// AcksEnded are the outage's sitroom acks that ended upstream (a
	// silence behind them expired, deleted or changed): By acked, At is
	// when the ack ended, Comment says why.
	AcksEnded []ActionRef `json:"acks_ended"`
	// Hosts are the hosts whose consoles saw it (the team's history).
	Hosts []string `json:"hosts,omitempty"`
}

// HandoffSilence is an upstream silence: who made it, why, from when
// until when, on which Alertmanager.
type HandoffSilence struct {
	Source   string    `json:"source"`
	ID       string    `json:"id"`
	By       string    `json:"by"`
	Comment  string    `json:"comment"`
	Starts   time.Time `json:"starts"`
	Ends     time.Time `json:"ends"`
	Matchers string    `json:"matchers"`
}

// ActionRef is who did something and when.
type ActionRef struct {
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment"`
}

// EscalationStep is one escalation of an outage.
type EscalationStep struct {
	Level   int       `json:"level"`
	Who     string    `json:"who"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment"`
}

// HandoffStats are the window's outage figures. Percentiles are nearest
// rank over the outages that opened in the window and were acked by its
// end (TTA), and the outages that closed in the window (TTR); nil when
// there is no sample.
type HandoffStats struct {
	Opened     int    `json:"opened"`
	Closed     int    `json:"closed"`
	StillOpen  int    `json:"still_open"`
	TTASamples int    `json:"tta_samples"`
	TTAP50     *int64 `json:"tta_p50_seconds"`
	TTAP90     *int64 `json:"tta_p90_seconds"`
	TTRSamples int    `json:"ttr_samples"`
	TTRP50     *int64 `json:"ttr_p50_seconds"`
	TTRP90     *int64 `json:"ttr_p90_seconds"`
}

// OperatorActivity counts what one operator did in the window.
type OperatorActivity struct {
	Operator    string `json:"operator"`
	Acks        int    `json:"acks"`
	Unacks      int    `json:"unacks"`
	Escalations int    `json:"escalations"`
	// TicketEscalations and Takes count the tickets the operator moved to
	// Tier 2 and took (delivered or still on their way).
	TicketEscalations int `json:"ticket_escalations"`
	Takes             int `json:"takes"`
	Notes             int `json:"notes"`
	// Notifications counts the notify actions (one per send, whatever the
	// number of teams).
	Notifications int `json:"notifications"`
	Refused       int `json:"refused"`
}

// HandoffAction is an audited action: refused, or not yet delivered.
type HandoffAction struct {
	At       time.Time `json:"at"`
	Operator string    `json:"operator"`
	Verb     string    `json:"verb"`
	Target   string    `json:"target"`
	State    string    `json:"state"`  // refused, pending, failed
	Reason   string    `json:"reason"` // why refused, or the last delivery error
}

// HandoffBacklog is the ticket backlog per tier at the start and end of
// the window. Known is false while no ticket source records samples.
type HandoffBacklog struct {
	Known bool          `json:"known"`
	Tiers []BacklogTier `json:"tiers"`
	// Escalated are the tickets moved to Tier 2 through sitroom in the
	// window (refusals are listed with the refused actions).
	Escalated []HandoffAction `json:"escalated"`
}

// BacklogTier is one tier's backlog at the window's start and end.
type BacklogTier struct {
	Source string `json:"source"`
	Tier   string `json:"tier"`
	// Start is the last sample at or before the window's start; nil when
	// there is none, and KnownFrom is then when the first sample in the
	// window was taken: nothing is known of the backlog before it.
	Start     *BacklogCounts `json:"start"`
	KnownFrom *time.Time     `json:"known_from"`
	End       *BacklogCounts `json:"end"`
}

// BacklogCounts are a tier's ticket counts at one time.
type BacklogCounts struct {
	At         time.Time `json:"at"`
	Open       int       `json:"open"`
	Unassigned int       `json:"unassigned"`
	Breached   int       `json:"breached"`
}

// HandoffSourceDown is a stretch a source was down that overlaps the window.
type HandoffSourceDown struct {
	Source string     `json:"source"`
	Down   time.Time  `json:"down"`
	Up     *time.Time `json:"up"` // nil: still down at the window's end
	Error  string     `json:"error"`
	// DurationSeconds is the time down within the window.
	DurationSeconds int64 `json:"duration_seconds"`
	// Host is the host whose console saw it down (the team's history).
	Host string `json:"host,omitempty"`
}

// HandoffPipeline is an episode of a source's alerting pipeline degraded
// (a severe Finding: a failing rule, a stuck rule group, a failed reload,
// a split cluster, an Alertmanager not receiving) that overlaps the window.
type HandoffPipeline struct {
	Source string `json:"source"`
	Kind   string `json:"kind"` // rule, stuck, reload, cluster, notify
	// Subject is what the finding is about, in sitroom's words; What is
	// the episode in a few words for people ("rule g/r failing").
	Subject string `json:"subject"`
	What    string `json:"what"`
	// Text is the upstream's latest words about it (untrusted).
	Text  string     `json:"text"`
	Began time.Time  `json:"began"`
	Ended *time.Time `json:"ended"` // nil: still reported at the window's end
	// Seconds is the time degraded within the window; TotalSeconds from
	// Began to Ended, or to the window's end.
	Seconds      int64 `json:"seconds"`
	TotalSeconds int64 `json:"total_seconds"`
}

// PipelineWhat says what a finding of this kind and subject is about in a
// few words: "rule g/r failing", "rule group g stuck", or the subject
// (which already says it: "config reload failed", "cluster split (1 of 2
// peers)", "127.0.0.1:9093 not receiving").
func PipelineWhat(kind FindingKind, subject string) string {
	switch kind {
	case FindingRule:
		return "rule " + subject + " failing"
	case FindingStuck:
		return "rule group " + subject + " stuck"
	}
	return subject
}

// ExpiringAck is an ack made through sitroom whose silences expire in the
// next shift, or (External) an upstream silence on an open outage that
// does: By is its author, At its start, Until its end, SilenceID and
// Source say which.
type ExpiringAck struct {
	Service   string    `json:"service"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Until     time.Time `json:"until"`
	Silences  int       `json:"silences"`
	Comment   string    `json:"comment"`
	External  bool      `json:"external"`
	Source    string    `json:"source"`
	SilenceID string    `json:"silence_id"`
}

// HandoffNote is a note left in the window; Service "" is a note on the shift.
type HandoffNote struct {
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	Service string    `json:"service"`
	Text    string    `json:"text"`
}

// Timeline event kinds.
const (
	EventAlertFired    = "alert_fired"
	EventAlertResolved = "alert_resolved"
	EventOutageOpened  = "outage_opened"
	EventAcked         = "acked"
	EventUnacked       = "unacked"
	EventAckEnded      = "ack_ended" // an ack ended upstream
	EventEscalated     = "escalated"
	// EventTicketEscalated and EventTicketTaken are a ticket escalation
	// and a take made here; Detail starts with the action's state
	// (delivered, pending, failed, refused).
	EventTicketEscalated = "ticket_escalated"
	EventTicketTaken     = "ticket_taken"
	EventNote            = "note"
	EventOutageClosed    = "outage_resolved"
	EventSourceDown      = "source_down"
	EventSourceUp        = "source_up"
)

// TimelineEvent is one step of the shift, in time order.
type TimelineEvent struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject"` // service, source or alert
	By      string    `json:"by"`      // operator, for actions
	Detail  string    `json:"detail"`
}

// BuildHandoff computes the report for opt.Window from h, which must cover
// opt.Previous through opt.Window (and the acks in force at its end). It
// reads no clock: every figure comes from stored timestamps and the
// windows given.
func BuildHandoff(h *History, opt HandoffOptions) *Handoff {
	w := opt.Window
	loc := opt.Zone
	if loc == nil {
		loc = time.UTC
	}
	r := &Handoff{Version: HandoffVersion, Zone: loc.String(), Window: utcWindow(w), Previous: utcWindow(opt.Previous),
		Next: utcWindow(opt.Next), loc: loc,
		Outages: []HandoffOutage{}, Operators: []OperatorActivity{}, Refused: []HandoffAction{}, Unfinished: []HandoffAction{},
		Backlog: HandoffBacklog{Tiers: []BacklogTier{}}, SourceOutages: []HandoffSourceDown{}, Pipeline: []HandoffPipeline{},
		ExpiringSilences: []ExpiringAck{}, Notifications: []HandoffNotification{}, Notes: []HandoffNote{}, Timeline: []TimelineEvent{}}

	outages := append([]OutageRecord(nil), h.Outages...)
	sort.SliceStable(outages, func(i, j int) bool {
		if !outages[i].Opened.Equal(outages[j].Opened) {
			return outages[i].Opened.Before(outages[j].Opened)
		}
		return outages[i].Service < outages[j].Service
	})
	lateAfter := opt.LateAfter
	if lateAfter <= 0 {
		lateAfter = DefaultLateAfter
	}
	for _, o := range outages {
		if ho, ok := handoffOutage(h, o, w, lateAfter); ok {
			acknowledged(h, o, &ho, w, opt.Threshold)
			r.Outages = append(r.Outages, ho)
		}
	}
	r.Notifications = notifications(h, r.Outages, opt, w)
	r.Stats = stats(h, outages, w)
	r.PreviousStats = stats(h, outages, opt.Previous)

	// Actions: by operator, refused, unfinished.
	byOp := map[string]*OperatorActivity{}
	escalated := []HandoffAction{}
	for _, a := range h.Audit {
		if a.Verb == VerbTicketEscalate && in(a.At, w) && a.State != ActionRefused {
			escalated = append(escalated, HandoffAction{At: a.At.UTC(), Operator: a.Operator, Verb: string(a.Verb),
				Target: a.Target, State: string(a.State), Reason: a.Reason})
		}
		if !in(a.At, w) {
			if !a.At.Before(w.To) || (a.State != ActionPending && a.State != ActionFailed) {
				continue
			}
		}
		if in(a.At, w) && a.Verb != VerbClear && a.Verb != VerbEnded {
			op := byOp[a.Operator]
			if op == nil {
				op = &OperatorActivity{Operator: a.Operator}
				byOp[a.Operator] = op
			}
			switch {
			case a.State == ActionRefused:
				op.Refused++
			case a.Verb == VerbAck:
				op.Acks++
			case a.Verb == VerbUnack:
				op.Unacks++
			case a.Verb == VerbEscalate:
				op.Escalations++
			case a.Verb == VerbTicketEscalate:
				op.TicketEscalations++
			case a.Verb == VerbTake:
				op.Takes++
			case a.Verb == VerbNote:
				op.Notes++
			case a.Verb == VerbNotify:
				op.Notifications++
			}
		}
		ha := HandoffAction{At: a.At.UTC(), Operator: a.Operator, Verb: string(a.Verb), Target: a.Target, State: string(a.State), Reason: a.Reason}
		switch a.State {
		case ActionRefused:
			r.Refused = append(r.Refused, ha)
		case ActionPending, ActionFailed:
			r.Unfinished = append(r.Unfinished, ha)
		}
	}
	for _, k := range SortedKeys(byOp) {
		r.Operators = append(r.Operators, *byOp[k])
	}

	r.Backlog = backlog(h.Backlog, w)
	r.Backlog.Escalated = escalated

	for _, s := range h.SourceOutages {
		if !overlaps(s.Down, s.Up, w) {
			continue
		}
		sd := HandoffSourceDown{Source: s.Source, Down: s.Down.UTC(), Error: s.Error, Host: s.Host}
		end := w.To
		if !s.Up.IsZero() && s.Up.Before(w.To) {
			up := s.Up.UTC()
			sd.Up = &up
			end = s.Up
		}
		start := s.Down
		if start.Before(w.From) {
			start = w.From
		}
		sd.DurationSeconds = secs(end.Sub(start))
		r.SourceOutages = append(r.SourceOutages, sd)
	}
	sort.SliceStable(r.SourceOutages, func(i, j int) bool { return r.SourceOutages[i].Down.Before(r.SourceOutages[j].Down) })
	r.Pipeline = pipeline(h.Pipeline, w)

	for _, a := range h.Acks {
		if !a.At.Before(w.To) || (!a.Cleared.IsZero() && !a.Cleared.After(w.To)) {
			continue
		}
		if a.Until.Before(opt.Next.From) || !a.Until.Before(opt.Next.To) {
			continue
		}
		r.ExpiringSilences = append(r.ExpiringSilences, ExpiringAck{Service: a.Service, By: a.By, At: a.At.UTC(),
			Until: a.Until.UTC(), Silences: a.Silences, Comment: a.Comment})
	}
	for _, s := range h.Silences {
		if s.EndsAt.Before(opt.Next.From) || !s.EndsAt.Before(opt.Next.To) || !s.StartsAt.Before(w.To) {
			continue
		}
		for _, svc := range s.Services {
			r.ExpiringSilences = append(r.ExpiringSilences, ExpiringAck{Service: svc, By: s.CreatedBy, At: s.StartsAt.UTC(),
				Until: s.EndsAt.UTC(), Silences: 1, Comment: s.Comment, External: true, Source: s.Source, SilenceID: s.ID})
		}
	}
	sort.SliceStable(r.ExpiringSilences, func(i, j int) bool { return r.ExpiringSilences[i].Until.Before(r.ExpiringSilences[j].Until) })

	for _, n := range h.Notes {
		if in(n.At, w) {
			r.Notes = append(r.Notes, HandoffNote{At: n.At.UTC(), By: n.By, Service: n.Service, Text: n.Text})
		}
	}
	sort.SliceStable(r.Notes, func(i, j int) bool { return r.Notes[i].At.Before(r.Notes[j].At) })

	r.Timeline, r.TimelineCut = timeline(h, w, opt.MaxTimeline)
	r.Team = handoffTeam(h.Team, w)
	return r
}

// pipeline lists the alerting pipeline episodes overlapping w, by start
// (then source, what), with the time each was degraded within w and in
// all up to w's end.
func pipeline(eps []PipelineEpisode, w Window) []HandoffPipeline {
	out := []HandoffPipeline{}
	for _, e := range eps {
		if !overlaps(e.Began, e.Ended, w) {
			continue
		}
		p := HandoffPipeline{Source: e.Source, Kind: string(e.Kind), Subject: e.Subject, What: PipelineWhat(e.Kind, e.Subject),
			Text: e.Text, Began: e.Began.UTC()}
		end := w.To
		if !e.Ended.IsZero() && e.Ended.Before(w.To) {
			p.Ended = ptr(e.Ended.UTC())
			end = e.Ended
		}
		p.Seconds = secs(end.Sub(later(e.Began, w.From)))
		p.TotalSeconds = secs(end.Sub(e.Began))
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Began.Equal(b.Began) {
			return a.Began.Before(b.Began)
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.What < b.What
	})
	return out
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func utcWindow(w Window) Window { return Window{Label: w.Label, From: w.From.UTC(), To: w.To.UTC()} }

func in(t time.Time, w Window) bool { return !t.Before(w.From) && t.Before(w.To) }

// overlaps reports whether [start, end) (end zero: still going) overlaps w.
func overlaps(start, end time.Time, w Window) bool {
	return start.Before(w.To) && (end.IsZero() || !end.Before(w.From))
}

func secs(d time.Duration) int64 {
	if d < 0 {
		return 0
	}
	return int64(d / time.Second)
}

func ptr[T any](v T) *T { return &v }

// firstAck is the first ack of the outage (not refused) made while it was
// open, up to end.
func firstAck(h *History, o OutageRecord, end time.Time) *AuditEntry {
	for i := range h.Audit {
		a := &h.Audit[i]
		if a.Verb == VerbAck && a.State != ActionRefused && a.Service == o.Service && ackCounts(a.At, o.Opened, end) {
			return a
		}
	}
	return nil
}

// ackCounts says whether an ack at this time is an outage's ack for its
// TTA, the handoff's and the statistics' one rule: made at or after the
// outage opened and before it stopped counting (end: outageEnd).
func ackCounts(at, opened, end time.Time) bool {
	return !at.IsZero() && !at.Before(opened) && at.Before(end)
}

// outageEnd is when the outage stops counting: closed, or the window's end.
func outageEnd(o OutageRecord, w Window) time.Time { return closedOrEnd(o.Closed, w) }

// closedOrEnd is closed when the outage closed before w's end, else w's end.
func closedOrEnd(closed time.Time, w Window) time.Time {
	if !closed.IsZero() && closed.Before(w.To) {
		return closed
	}
	return w.To
}

func handoffOutage(h *History, o OutageRecord, w Window, lateAfter time.Duration) (HandoffOutage, bool) {
	if !overlaps(o.Opened, o.Closed, w) {
		return HandoffOutage{}, false
	}
	end := outageEnd(o, w)
	firstSeen := o.FirstSeen
	if firstSeen.IsZero() {
		firstSeen = o.Opened
	}
	ho := HandoffOutage{Service: o.Service, Severity: o.Severity.Name(), Opened: o.Opened.UTC(), FirstSeen: firstSeen.UTC(),
		Alerts: o.Alerts, OpenedInWindow: in(o.Opened, w), Escalations: []EscalationStep{}, Hosts: o.Hosts}
	if late := firstSeen.Sub(o.Opened); late > lateAfter {
		ho.SeenLateSeconds = ptr(secs(late))
	}
	if !o.Closed.IsZero() && o.Closed.Before(w.To) {
		c := o.Closed.UTC()
		ho.Closed = &c
		ho.Provisional = o.Provisional
		ho.ClosedInWindow = in(o.Closed, w)
		ho.TTRSeconds = ptr(secs(o.Closed.Sub(o.Opened)))
	} else {
		ho.StillOpen = true
	}
	ho.DurationSeconds = secs(end.Sub(o.Opened))
	if a := firstAck(h, o, end); a != nil {
		ho.FirstAck = &ActionRef{By: a.Operator, At: a.At.UTC(), Comment: a.Comment}
		ho.TTASeconds = ptr(secs(a.At.Sub(o.Opened)))
	}
	for _, e := range h.Escalations {
		if e.Service == o.Service && !e.At.Before(o.Opened) && e.At.Before(end) {
			ho.Escalations = append(ho.Escalations, EscalationStep{Level: e.Level, Who: e.Who, By: e.By, At: e.At.UTC(), Comment: e.Comment})
		}
	}
	sort.SliceStable(ho.Escalations, func(i, j int) bool { return ho.Escalations[i].At.Before(ho.Escalations[j].At) })
	return ho, true
}

// acknowledged fills in what the report says of the outage's silences and
// acks that ended upstream, and whether it is acknowledged (Acknowledge:
// the one meaning, over the open alerts the cache holds now for an
// outage still open).
func acknowledged(h *History, o OutageRecord, ho *HandoffOutage, w Window, threshold Severity) {
	end := outageEnd(o, w)
	ho.Silences, ho.AcksEnded = []HandoffSilence{}, []ActionRef{}
	for _, s := range h.Silences {
		if !slices.Contains(s.Services, o.Service) || !s.StartsAt.Before(end) || !s.EndsAt.After(o.Opened) {
			continue
		}
		ho.Silences = append(ho.Silences, HandoffSilence{Source: s.Source, ID: s.ID, By: s.CreatedBy, Comment: s.Comment,
			Starts: s.StartsAt.UTC(), Ends: s.EndsAt.UTC(), Matchers: s.Matchers})
	}
	sort.SliceStable(ho.Silences, func(i, j int) bool { return ho.Silences[i].Ends.Before(ho.Silences[j].Ends) })
	for _, a := range h.Audit {
		if a.Verb == VerbEnded && a.Service == o.Service && !a.At.Before(o.Opened) && a.At.Before(end) {
			ho.AcksEnded = append(ho.AcksEnded, ActionRef{By: endedBy(a.Comment), At: a.At.UTC(), Comment: a.Comment})
		}
	}
	if !ho.StillOpen {
		ho.Acknowledged = ho.FirstAck != nil || len(ho.Silences) > 0
		return
	}
	floor := threshold
	if floor == SevNone {
		floor = o.Severity
	}
	var keys []string
	silenced := map[string][]string{}
	for _, a := range h.OpenAlerts {
		if a.Service == o.Service && a.Severity >= floor {
			keys = append(keys, a.Key)
			silenced[a.Key] = append(silenced[a.Key], a.SilencedBy...)
		}
	}
	var ack *Ack
	for i := range h.AcksNow {
		if a := &h.AcksNow[i]; a.Service == o.Service {
			if ack == nil {
				ack = a
			} else if len(ack.AlertKeys) > 0 {
				// several acks alert by alert: together they cover what each names
				merged := *ack
				merged.AlertKeys = SortedKeys(keySet(ack.AlertKeys, a.AlertKeys))
				ack = &merged
			}
		}
	}
	if len(keys) == 0 {
		// The cache holds no open alert of the service under this name
		// (a catalog mapping): an ack in force or a silence on it counts.
		ho.Acknowledged = ack != nil || len(ho.Silences) > 0
		return
	}
	ho.Acknowledged = Acknowledge(dedupe(keys), ack, func(k string) []string { return silenced[k] }).Acked
}

// endedBy is the operator whose ack an ack_ended audit comment names
// ("ack by root ended upstream: …"), or "".
func endedBy(comment string) string {
	rest, ok := strings.CutPrefix(comment, "ack by ")
	if !ok {
		return ""
	}
	by, _, _ := strings.Cut(rest, " ended upstream")
	return by
}

func keySet(lists ...[]string) map[string]bool {
	set := map[string]bool{}
	for _, l := range lists {
		for _, k := range l {
			set[k] = true
		}
	}
	return set
}

func dedupe(keys []string) []string {
	if len(keys) == 0 {
		return nil
	}
	return SortedKeys(keySet(keys))
}

func stats(h *History, outages []OutageRecord, w Window) HandoffStats {
	var s HandoffStats
	var tta, ttr []int64
	for _, o := range outages {
		if !overlaps(o.Opened, o.Closed, w) {
			continue
		}
		if in(o.Opened, w) {
			s.Opened++
			if a := firstAck(h, o, outageEnd(o, w)); a != nil {
				tta = append(tta, secs(a.At.Sub(o.Opened)))
			}
		}
		if !o.Closed.IsZero() && in(o.Closed, w) {
			s.Closed++
			ttr = append(ttr, secs(o.Closed.Sub(o.Opened)))
		} else if o.Closed.IsZero() || !o.Closed.Before(w.To) {
			s.StillOpen++
		}
	}
	s.TTASamples, s.TTAP50, s.TTAP90 = len(tta), percentile(tta, 50), percentile(tta, 90)
	s.TTRSamples, s.TTRP50, s.TTRP90 = len(ttr), percentile(ttr, 50), percentile(ttr, 90)
	return s
}

// percentile is the nearest-rank p-th percentile of v, nil when v is empty.
func percentile(v []int64, p float64) *int64 {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	if rank < 1 {
		rank = 1
	}
	return ptr(s[rank-1])
}

func backlog(samples []BacklogSample, w Window) HandoffBacklog {
	b := HandoffBacklog{Known: len(samples) > 0, Tiers: []BacklogTier{}}
	idx := map[[2]string]*BacklogTier{}
	var order [][2]string
	sorted := append([]BacklogSample(nil), samples...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At.Before(sorted[j].At) })
	for _, s := range sorted {
		if !s.At.Before(w.To) {
			continue
		}
		k := [2]string{s.Source, s.Tier}
		t := idx[k]
		if t == nil {
			t = &BacklogTier{Source: s.Source, Tier: s.Tier}
			idx[k] = t
			order = append(order, k)
		}
		c := &BacklogCounts{At: s.At.UTC(), Open: s.Open, Unassigned: s.Unassigned, Breached: s.Breached}
		// Start: the last sample at or before the window's start; with
		// none, the first inside it says from when the backlog is known.
		// End: the last sample before the window's end.
		if !s.At.After(w.From) {
			t.Start = c
		} else if t.Start == nil && t.KnownFrom == nil {
			t.KnownFrom = ptr(s.At.UTC())
		}
		if !s.At.Before(w.From) {
			t.End = c
		}
	}
	sort.Slice(order, func(i, j int) bool {
		return order[i][0] < order[j][0] || order[i][0] == order[j][0] && order[i][1] < order[j][1]
	})
	for _, k := range order {
		b.Tiers = append(b.Tiers, *idx[k])
	}
	return b
}

func timeline(h *History, w Window, max int) ([]TimelineEvent, int) {
	if max <= 0 {
		max = 1000
	}
	var ev []TimelineEvent
	add := func(at time.Time, kind, subject, by, detail string) {
		if in(at, w) {
			ev = append(ev, TimelineEvent{At: at.UTC(), Kind: kind, Subject: subject, By: by, Detail: detail})
		}
	}
	for _, a := range h.Alerts {
		name := a.Name
		if a.Service != "" {
			name += " (" + a.Service + ")"
		}
		add(a.Fired, EventAlertFired, name, "", a.Severity.Name()+" · "+strings.Join(a.Sources, ", "))
		if !a.Resolved.IsZero() {
			add(a.Resolved, EventAlertResolved, name, "", "")
		}
	}
	for _, o := range h.Outages {
		add(o.Opened, EventOutageOpened, o.Service, "", o.Severity.Name())
		if !o.Closed.IsZero() {
			add(o.Closed, EventOutageClosed, o.Service, "", "open "+FormatSeconds(secs(o.Closed.Sub(o.Opened))))
		}
	}
	for _, a := range h.Audit {
		if a.Verb == VerbTicketEscalate || a.Verb == VerbTake {
			kind := EventTicketEscalated
			if a.Verb == VerbTake {
				kind = EventTicketTaken
			}
			d := string(a.State)
			if a.Reason != "" {
				d += ": " + a.Reason
			}
			add(a.At, kind, a.Target, a.Operator, d)
			continue
		}
		if a.State == ActionRefused {
			continue
		}
		switch a.Verb {
		case VerbAck:
			add(a.At, EventAcked, a.Target, a.Operator, a.Comment)
		case VerbUnack:
			add(a.At, EventUnacked, a.Target, a.Operator, a.Comment)
		case VerbEnded:
			add(a.At, EventAckEnded, a.Target, "", a.Comment)
		case VerbNote:
			add(a.At, EventNote, a.Target, a.Operator, a.Comment)
		}
	}
	for _, e := range h.Escalations {
		d := "level " + itoa(e.Level)
		if e.Who != "" {
			d += " (" + e.Who + ")"
		}
		if e.Comment != "" {
			d += ": " + e.Comment
		}
		add(e.At, EventEscalated, e.Service, e.By, d)
	}
	for _, s := range h.SourceOutages {
		from := ""
		if s.Host != "" {
			from = "from " + s.Host + ": " // the team's history: each host's view
		}
		add(s.Down, EventSourceDown, s.Source, "", from+s.Error)
		if !s.Up.IsZero() {
			add(s.Up, EventSourceUp, s.Source, "", from+"down "+FormatSeconds(secs(s.Up.Sub(s.Down))))
		}
	}
	sort.SliceStable(ev, func(i, j int) bool {
		if !ev[i].At.Equal(ev[j].At) {
			return ev[i].At.Before(ev[j].At)
		}
		if ev[i].Kind != ev[j].Kind {
			return kindRank(ev[i].Kind) < kindRank(ev[j].Kind)
		}
		return ev[i].Subject < ev[j].Subject
	})
	cut := 0
	if len(ev) > max {
		cut = len(ev) - max
		ev = ev[:max]
	}
	if ev == nil {
		ev = []TimelineEvent{}
	}
	return ev, cut
}

func kindRank(k string) int {
	for i, x := range []string{EventSourceDown, EventAlertFired, EventOutageOpened, EventAcked, EventEscalated,
		EventTicketEscalated, EventTicketTaken, EventNote, EventUnacked, EventAckEnded, EventAlertResolved, EventOutageClosed, EventSourceUp} {
		if x == k {
			return i
		}
	}
	return 99
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

// FormatSeconds renders a duration in seconds for people: 45s, 12m, 1h05m,
// 2d03h.
func FormatSeconds(s int64) string {
	d := time.Duration(s) * time.Second
	switch {
	case d < time.Minute:
		return itoa(int(s)) + "s"
	case d < time.Hour:
		m := int(d / time.Minute)
		if r := int(d % time.Minute / time.Second); r != 0 {
			return itoa(m) + "m" + pad2(r) + "s"
		}
		return itoa(m) + "m"
	case d < 48*time.Hour:
		return itoa(int(d/time.Hour)) + "h" + pad2(int(d%time.Hour/time.Minute)) + "m"
	}
	return itoa(int(d/(24*time.Hour))) + "d" + pad2(int(d%(24*time.Hour)/time.Hour)) + "h"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}

// JSON renders the report in its documented, stable shape (docs/handoff.md),
// indented, with a trailing newline. Strings are carried exactly (invalid
// UTF-8 as U+FFFD), and the file is safe to print to a terminal: besides
// the control characters and line separators encoding/json escapes, DEL,
// the C1 controls (U+0080–U+009F: U+009B is a CSI to some terminals) and
// the bidi controls (U+202E reverses what follows) are written as \u
// escapes, which decode to the same string.
func (r *Handoff) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(jsonEscapeControls(b), '\n'), nil
}

// jsonEscapeControls rewrites DEL, C1 and bidi controls in JSON text as \u
// escapes. Outside strings JSON text is ASCII without DEL, so every such
// rune is inside a string, where the escape means the same rune.
func jsonEscapeControls(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, size := rune(b[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(b[i:])
		}
		if r == 0x7f || r >= 0x80 && (r <= 0x9f || unicode.Is(unicode.Bidi_Control, r)) {
			if out == nil {
				out = append(make([]byte, 0, len(b)+64), b[:i]...)
			}
			const hex = "0123456789abcdef"
			out = append(out, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		} else if out != nil {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	if out == nil {
		return b
	}
	return out
}
