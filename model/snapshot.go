package model

import (
	"sort"
	"strings"
	"time"
)

// Signal is one alert merged across every source that holds it.
type Signal struct {
	Key          string
	Name         string
	Service      string
	Mapped       bool // Service came from the catalog
	Severity     Severity
	State        State // suppressed if any source suppresses it, else firing if any fires, else pending
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time // earliest across sources
	FirstSeen    time.Time
	LastSeen     time.Time
	Sources      []string // sorted source names that hold it
	GeneratorURL string
	SilencedBy   []string
	InhibitedBy  []string
	// Stale is set when no source holding the signal polled successfully
	// last time: the row is shown from the cache. StaleSince is the last
	// time any of its sources succeeded.
	Stale      bool
	StaleSince time.Time

	haystack string
}

// Summary is the one-line text to show for the signal.
func (s *Signal) Summary() string {
	for _, k := range []string{"summary", "message", "description", "title"} {
		if v := s.Annotations[k]; v != "" {
			return v
		}
	}
	return ""
}

// RunbookURL is the runbook annotation, if any.
func (s *Signal) RunbookURL() string {
	for _, k := range []string{"runbook_url", "runbook"} {
		if v := s.Annotations[k]; v != "" {
			return v
		}
	}
	return ""
}

// MatchesText reports whether q (already lower-case) occurs in the signal's
// name, service, state, severity, sources, summary or any label value or
// annotation. The text searched is built on first use and kept, so only
// one goroutine (the UI's) may call it on a published snapshot.
func (s *Signal) MatchesText(q string) bool {
	if q == "" {
		return true
	}
	if s.haystack == "" {
		var b strings.Builder
		for _, p := range []string{s.Name, s.Service, string(s.State), s.Severity.String(), s.Summary()} {
			b.WriteString(p)
			b.WriteByte(0)
		}
		b.WriteString(strings.Join(s.Sources, "\x00"))
		for k, v := range s.Labels {
			b.WriteString(k + "=" + v + "\x00")
		}
		for _, v := range s.Annotations {
			b.WriteString(v + "\x00")
		}
		s.haystack = strings.ToLower(b.String())
	}
	return strings.Contains(s.haystack, q)
}

// Outage is a service with at least one firing signal at or above the
// outage threshold.
type Outage struct {
	Service    string
	Mapped     bool
	Owner      string
	Runbook    string
	Severity   Severity  // worst firing severity
	Since      time.Time // earliest start among its firing signals
	Alerts     int       // firing signals at or above the threshold
	Total      int       // every open signal of the service (any state and severity)
	Suppressed int       // signals of the service silenced or inhibited upstream
	Sources    []string
	Stale      bool // every signal of the outage is stale
	StaleSince time.Time
	Keys       []string // keys of the signals counted in Alerts
}

// Counts are the header totals.
type Counts struct {
	Outages    int
	Firing     int
	Pending    int
	Suppressed int
	Critical   int // firing critical signals
	Stale      int // stale signals
}

// Snapshot is everything the UI draws, built off the UI goroutine and never
// modified after it is published.
type Snapshot struct {
	Built   time.Time
	Signals []*Signal
	Outages []*Outage
	Sources []SourceStatus
	Counts  Counts
}

// SnapshotOptions tune BuildSnapshot.
type SnapshotOptions struct {
	Now             time.Time
	OutageThreshold Severity // default SevCritical
	Catalog         *Catalog
}

// BuildSnapshot merges the open rows of every configured source into
// signals, groups them into outages and totals them. Rows from sources not
// in statuses (no longer configured) and resolved rows are left out.
func BuildSnapshot(rows []*AlertRow, statuses []SourceStatus, opt SnapshotOptions) *Snapshot {
	if opt.OutageThreshold == SevNone {
		opt.OutageThreshold = SevCritical
	}
	status := make(map[string]*SourceStatus, len(statuses))
	for i := range statuses {
		status[statuses[i].Name] = &statuses[i]
	}
	snap := &Snapshot{Built: opt.Now, Sources: statuses}
	byKey := make(map[string]*Signal, len(rows))
	// Visit rows in source order so the merged labels are deterministic.
	order := make([]int, 0, len(rows))
	for i := range rows {
		if rows[i].Resolved() || status[rows[i].Source] == nil {
			continue
		}
		order = append(order, i)
	}
	sort.SliceStable(order, func(a, b int) bool { return rows[order[a]].Source < rows[order[b]].Source })
	for _, i := range order {
		r := rows[i]
		st := status[r.Source]
		fresh := st.LastError == ""
		sig := byKey[r.Key]
		if sig == nil {
			sig = &Signal{
				Key:          r.Key,
				Name:         r.Labels["alertname"],
				Severity:     ParseSeverity(r.Labels["severity"]),
				State:        r.State,
				Labels:       r.Labels,
				Annotations:  r.Annotations,
				StartsAt:     r.StartsAt,
				FirstSeen:    r.FirstSeen,
				LastSeen:     r.LastSeen,
				GeneratorURL: r.GeneratorURL,
				Stale:        true,
			}
			sig.Service, sig.Mapped = opt.Catalog.ServiceFor(r.Labels)
			byKey[r.Key] = sig
			snap.Signals = append(snap.Signals, sig)
		} else {
			if mergeRank(r.State) > mergeRank(sig.State) {
				sig.State = r.State
			}
			if !r.StartsAt.IsZero() && (sig.StartsAt.IsZero() || r.StartsAt.Before(sig.StartsAt)) {
				sig.StartsAt = r.StartsAt
			}
			if r.FirstSeen.Before(sig.FirstSeen) {
				sig.FirstSeen = r.FirstSeen
			}
			if r.LastSeen.After(sig.LastSeen) {
				sig.LastSeen = r.LastSeen
			}
			if sig.GeneratorURL == "" {
				sig.GeneratorURL = r.GeneratorURL
			}
			if len(r.Annotations) > len(sig.Annotations) {
				sig.Annotations = r.Annotations
			}
		}
		sig.Sources = append(sig.Sources, r.Source)
		sig.SilencedBy = appendUnique(sig.SilencedBy, r.SilencedBy...)
		sig.InhibitedBy = appendUnique(sig.InhibitedBy, r.InhibitedBy...)
		if fresh {
			sig.Stale = false
		}
		if st.LastSuccess.After(sig.StaleSince) {
			sig.StaleSince = st.LastSuccess
		}
	}
	sort.Slice(snap.Signals, func(i, j int) bool { return signalLess(snap.Signals[i], snap.Signals[j]) })

	outages := map[string]*Outage{}
	for _, sig := range snap.Signals {
		switch sig.State {
		case StateFiring:
			snap.Counts.Firing++
			if sig.Severity == SevCritical {
				snap.Counts.Critical++
			}
		case StatePending:
			snap.Counts.Pending++
		case StateSuppressed:
			snap.Counts.Suppressed++
		}
		if sig.Stale {
			snap.Counts.Stale++
		}
		if sig.State != StateFiring || sig.Severity < opt.OutageThreshold {
			continue
		}
		o := outages[sig.Service]
		if o == nil {
			o = &Outage{Service: sig.Service, Mapped: sig.Mapped, Since: sig.StartsAt, Stale: true}
			if svc := opt.Catalog.Lookup(sig.Service); svc != nil {
				o.Owner, o.Runbook = svc.Owner, svc.Runbook
			}
			outages[sig.Service] = o
			snap.Outages = append(snap.Outages, o)
		}
		if sig.Severity > o.Severity {
			o.Severity = sig.Severity
		}
		if !sig.StartsAt.IsZero() && (o.Since.IsZero() || sig.StartsAt.Before(o.Since)) {
			o.Since = sig.StartsAt
		}
		o.Alerts++
		o.Keys = append(o.Keys, sig.Key)
		o.Sources = appendUnique(o.Sources, sig.Sources...)
		if !sig.Stale {
			o.Stale = false
		}
		if sig.StaleSince.After(o.StaleSince) {
			o.StaleSince = sig.StaleSince
		}
	}
	for _, sig := range snap.Signals {
		if o := outages[sig.Service]; o != nil {
			o.Total++
			if sig.State == StateSuppressed {
				o.Suppressed++
			}
		}
	}
	for _, o := range snap.Outages {
		sort.Strings(o.Sources)
	}
	sort.Slice(snap.Outages, func(i, j int) bool {
		a, b := snap.Outages[i], snap.Outages[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if !a.Since.Equal(b.Since) {
			return a.Since.Before(b.Since)
		}
		return a.Service < b.Service
	})
	snap.Counts.Outages = len(snap.Outages)
	return snap
}

// mergeRank decides the state of a signal held by several sources. An
// Alertmanager that silences or inhibits an alert knows something the
// Prometheus it comes from does not, so suppressed wins over firing;
// firing wins over pending.
func mergeRank(s State) int {
	switch s {
	case StateSuppressed:
		return 3
	case StateFiring:
		return 2
	case StatePending:
		return 1
	}
	return 0
}

func signalLess(a, b *Signal) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if a.State.Rank() != b.State.Rank() {
		return a.State.Rank() > b.State.Rank()
	}
	if !a.StartsAt.Equal(b.StartsAt) {
		return a.StartsAt.Before(b.StartsAt)
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Key < b.Key
}

func appendUnique(dst []string, src ...string) []string {
outer:
	for _, s := range src {
		for _, d := range dst {
			if d == s {
				continue outer
			}
		}
		dst = append(dst, s)
	}
	return dst
}
