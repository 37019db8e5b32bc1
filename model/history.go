package model

import (
	"slices"
	"sort"
	"time"
)

// OutageRecord is the stored lifecycle of one outage: a service with a
// firing alert at or above the outage threshold, from when its first such
// alert began firing upstream (Opened: Outage.Since) until the moment the
// last went (Closed; zero while it is open). FirstSeen is when this console
// first saw it. While the anti-flap grace runs after it went, Closed is
// Provisional: the outage may come back as the same outage.
type OutageRecord struct {
	ID          int64
	Service     string
	Severity    Severity // worst severity seen while open
	Opened      time.Time
	FirstSeen   time.Time
	Closed      time.Time
	Provisional bool
	Alerts      int // most alerts seen at once
	// Hosts are the hosts whose consoles saw the outage, in the team's
	// history (team mode); empty in one host's own.
	Hosts []string
}

// SourceOutage is a stretch of time a source's polls failed: Down is the
// first failed attempt, Up the first success after it (zero while down),
// Error the failure in words (upstream text: untrusted).
type SourceOutage struct {
	ID     int64
	Source string
	Down   time.Time
	Up     time.Time
	Error  string
	// Host is the host whose console saw the source down, in the team's
	// history (team mode); "" in one host's own.
	Host string
}

// PipelineEpisode is one stretch of time a source's upstream reported a
// severe Finding about its own alerting pipeline (a failing rule, a
// failed reload, a split cluster, an Alertmanager not receiving): from
// the finding's Since to the first health read without it (Ended; zero
// while it is still reported). Kind and Subject are the finding's, in
// sitroom's words; Text is the upstream's latest words (untrusted).
type PipelineEpisode struct {
	ID      int64
	Source  string
	Kind    FindingKind
	Subject string
	Text    string
	Began   time.Time
	Ended   time.Time
}

// AlertEvent is one firing episode of one alert, merged across the
// sources that held it: when it began firing upstream and when the last
// source holding it stopped (zero while open), and the sources that had
// it, each once. An alert that resolves and fires again is a second
// episode. Name, Service and Severity come from its labels.
type AlertEvent struct {
	Key      string
	Name     string
	Service  string
	Severity Severity
	Sources  []string
	Fired    time.Time
	Resolved time.Time
}

// AlertSpan is one source's stored firing span of one alert: from when it
// began firing (its upstream start, guarded: a start later than sitroom
// first saw it firing counts as then) to when that source's row resolved
// (zero while open). A span that was only ever pending is not one.
type AlertSpan struct {
	Key, Source, Name, Service string
	Severity                   Severity
	Began, Resolved            time.Time
}

// AlertEpisodes merges the spans of each alert into its firing episodes:
// spans that overlap or touch are one episode (one source stopping while
// another still has the alert is a change of sources, not a resolve); a
// gap between them is a resolve and a re-fire. Episodes are ordered by
// key, then start.
func AlertEpisodes(spans []AlertSpan) []AlertEvent {
	byKey := map[string][]AlertSpan{}
	for _, sp := range spans {
		byKey[sp.Key] = append(byKey[sp.Key], sp)
	}
	var out []AlertEvent
	for _, k := range SortedKeys(byKey) {
		ss := byKey[k]
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].Began.Before(ss[j].Began) })
		var cur *AlertEvent
		flush := func() {
			if cur != nil {
				sort.Strings(cur.Sources)
				out = append(out, *cur)
			}
		}
		for _, sp := range ss {
			if cur != nil && (cur.Resolved.IsZero() || !sp.Began.After(cur.Resolved)) {
				switch {
				case sp.Resolved.IsZero():
					cur.Resolved = time.Time{}
				case !cur.Resolved.IsZero() && sp.Resolved.After(cur.Resolved):
					cur.Resolved = sp.Resolved
				}
				if !slices.Contains(cur.Sources, sp.Source) {
					cur.Sources = append(cur.Sources, sp.Source)
				}
				continue
			}
			flush()
			cur = &AlertEvent{Key: sp.Key, Name: sp.Name, Service: sp.Service, Severity: sp.Severity,
				Sources: []string{sp.Source}, Fired: sp.Began, Resolved: sp.Resolved}
		}
		flush()
	}
	return out
}

// AckRecord is an ack made through sitroom as stored: the ack, when it was
// cleared (zero while in force or lapsed) and how many Alertmanager
// silences it asked for.
type AckRecord struct {
	Ack
	Cleared  time.Time
	Silences int
}

// BacklogSample is the ticket backlog of one tier of one ticket source at
// one time, written by the poller's history recorder when the backlog
// changes and every few minutes; with no ticket source there are none and
// the report says so instead of showing zeros.
type BacklogSample struct {
	At         time.Time
	Source     string
	Tier       string
	Open       int
	Unassigned int
	Breached   int
}

// History is what the cache holds about a span of time, the raw material
// of a Handoff: every record overlapping [From, To).
type History struct {
	From, To      time.Time
	Outages       []OutageRecord // opened before To, closed at or after From (or open)
	SourceOutages []SourceOutage // down before To, up at or after From (or down)
	Alerts        []AlertEvent   // fired or resolved in the span
	Audit         []AuditEntry   // every action (refusals too) in the span or still unfinished
	Escalations   []Escalation
	Notes         []Note
	Acks          []AckRecord
	Backlog       []BacklogSample
	// Silences are the upstream silences sitroom did not make (or whose
	// ack ended upstream) that silence open alerts, with those alerts'
	// services; OpenAlerts the open alerts firing or silenced upstream of
	// the services of open outages. Both are as the cache holds them now:
	// what the handoff says of silences and of being acknowledged.
	Silences   []SilenceRecord
	OpenAlerts []OpenAlert
	// AcksNow are sitroom's acks in force as the history is read.
	AcksNow []Ack
	// Notifications are the messages of the notify actions in History's
	// Audit: one per team and channel, in time order.
	Notifications []NotificationRecord

	// Pipeline are the episodes of degradation of the sources' alerting
	// pipelines (severe findings) that began before To and ended at or
	// after From (or are open), by start.
	Pipeline []PipelineEpisode

	// Team says whose history this is in team mode: the team's, or this
	// host's alone when the team store could not be read, and when this
	// host was cut off from the store (handoff_team.go).
	Team TeamHistory
}

// NotificationRecord is one notify message to one team through one of
// its channels, and what became of it.
type NotificationRecord struct {
	ActionUID string
	At        time.Time
	Operator  string
	Service   string
	Team      string
	Channel   string // the channel's type: slack, msteams, …
	Index     int    // the channel's index in the team's config
	Kind      string // NotifyOutage, NotifyUpdate or NotifyResolved
	State     ActionState
	Error     string // the last failure in words
}

// SilenceRecord is an upstream silence with the services of the open
// alerts it silences.
type SilenceRecord struct {
	Silence
	Services []string
}

// OpenAlert is an open alert row as the handoff weighs it: firing, or
// silenced upstream by SilencedBy.
type OpenAlert struct {
	Service    string
	Key        string
	Severity   Severity
	SilencedBy []string
}
