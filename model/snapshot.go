package model

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Signal is one alert merged across every source that holds it.
type Signal struct {
	// AlertRow is the alert as its sources hold it: Key, Labels,
	// Annotations, StartsAt, FirstSeen, FiredSeen, LastSeen,
	// GeneratorURL, SilencedBy and InhibitedBy are read through it. For
	// an alert held by one source it is that source's row in the cache,
	// shared and never modified (there is a signal per open alert, 100k of
	// them: a copy would double the memory of the console); for one held
	// by several it is a row of its own merging theirs: StartsAt the
	// earliest across the sources that fire it (across all while only
	// pending), FirstSeen and FiredSeen the earliest, LastSeen the latest,
	// SilencedBy and InhibitedBy across its sources. Its Source, Missed
	// and ResolvedAt are the first source's and mean nothing here. Its
	// Name() is the alertname label.
	*AlertRow
	Service string
	State   State    // suppressed if any source suppresses it, else firing if any fires, else pending
	Sources []string // sorted source names that hold it
	// Stale is set when no source holding the signal polled successfully
	// last time: the row is shown from the cache. StaleSince is the last
	// poll of any of its sources that returned it: the age of the data
	// shown.
	StaleSince Stamp
	// RuleFailing is set when the rule behind the alert fails at
	// evaluation upstream (a FindingRule of one of its sources whose
	// labels the alert carries). Such an alert is frozen in whatever
	// state it was last evaluated to, so its state is in doubt
	// ("FIRING?"). Few alerts have one: nil for the others.
	RuleFailing *RuleFailure

	// paging has bit i set when Sources[i] is a voter on which it is
	// active (no bit: every voter suppresses it); it is read once every
	// row is merged, to settle State and Paging.
	paging uint32
	// Voters are how many of its sources can say it is silenced or
	// inhibited (its Alertmanagers, and any source reporting it
	// suppressed); SilencedIn and InhibitedIn how many of those silence
	// and inhibit it (an alert can be both). State is suppressed only when
	// every voter suppresses it: an alert silenced on one Alertmanager of
	// two that do not share their silences still pages from the other,
	// which Paging names. The alerts inhibiting it are the snapshot's
	// InhibitorsOf. (int16, packed with the flags below: there is a signal
	// per open alert, 100k of them, each a size class smaller.)
	Voters      int16
	SilencedIn  int16
	InhibitedIn int16
	Severity    Severity
	// startPending is set while StartsAt came from a pending row: a
	// firing row's start replaces it.
	startPending bool
	// merged is set once AlertRow is the signal's own merged row.
	merged bool
	Mapped bool // Service came from the catalog
	Stale  bool // see StaleSince
}

// RuleFailure is how the rule behind a signal fails upstream: since when
// sitroom has seen it failing, and the upstream's words (lastError),
// untrusted.
type RuleFailure struct {
	Since time.Time
	Error string
}

// RuleFailingSince is when the signal's rule was first seen failing;
// zero when it is not failing.
func (s *Signal) RuleFailingSince() time.Time {
	if s.RuleFailing == nil {
		return time.Time{}
	}
	return s.RuleFailing.Since
}

// Silenced reports whether the signal is silenced upstream: suppressed,
// and silenced by every source that can silence it (a source suppressing
// it without saying why, such as a CloudWatch alarm whose actions are
// held back, counts as silencing it).
func (s *Signal) Silenced() bool {
	return s.State == StateSuppressed && s.SilencedIn >= s.Voters
}

// Inhibited reports whether the signal is inhibited upstream by another
// alert: suppressed, and inhibited by every source that can say so.
func (s *Signal) Inhibited() bool {
	return s.State == StateSuppressed && s.InhibitedIn > 0 && s.InhibitedIn >= s.Voters
}

// Paging names the sources that still page the signal while others
// silence or inhibit it (see Disputed); nil when they agree.
func (s *Signal) Paging() []string {
	if !s.Disputed() {
		return nil
	}
	var out []string
	for i, src := range s.Sources {
		if s.paging&(1<<min(i, 31)) != 0 {
			out = append(out, src)
		}
	}
	return out
}

// Disputed reports whether the sources that can silence the signal
// disagree: some silence or inhibit it while at least one still pages
// (Paging). Such a signal counts as firing.
func (s *Signal) Disputed() bool {
	return s.paging != 0 && (s.SilencedIn > 0 || s.InhibitedIn > 0)
}

// Began is when the signal began firing upstream (StartsAt: the
// Alertmanager's startsAt, Prometheus' activeAt plus the rule's for, the
// alarm's transition into ALARM), guarded against clock skew: a start that
// is unknown, or later than sitroom first saw the signal firing (an
// upstream clock ahead of ours, a start in the future), counts as first
// seen firing.
func (s *Signal) Began() time.Time { return BeganAt(s.StartsAt.Time(), s.Seen()) }

// BeganAt is when something began firing upstream given the upstream's
// start and when sitroom first saw it firing: the start, unless it is
// unknown or later than seen (an upstream clock ahead of ours, a start in
// the future), when seen counts. One guard for the screen, the history
// recorder and the alert history.
func BeganAt(start, seen time.Time) time.Time {
	if start.IsZero() || (!seen.IsZero() && start.After(seen)) {
		return seen
	}
	return start
}

// Seen is when sitroom first saw the signal firing (or suppressed), or
// first saw it at all when it has only been pending.
func (s *Signal) Seen() time.Time {
	if !s.FiredSeen.IsZero() {
		return s.FiredSeen.Time()
	}
	return s.FirstSeen.Time()
}

// The annotations a summary and a runbook are read from, first set first.
var (
	summaryKeys = []string{"summary", "message", "description", "title"}
	runbookKeys = []string{"runbook_url", "runbook"}
)

func firstSet(a Labels, keys []string) (string, string) {
	for _, k := range keys {
		if v := a.Get(k); v != "" {
			return k, v
		}
	}
	return "", ""
}

// Summary is the one-line text to show for the signal.
func (s *Signal) Summary() string {
	_, v := firstSet(s.Annotations, summaryKeys)
	return v
}

// RunbookURL is the runbook annotation, if any.
func (s *Signal) RunbookURL() string {
	_, v := firstSet(s.Annotations, runbookKeys)
	return v
}

// ShownAnnotations is the part of an alert's annotations that the
// panels, the filter and the keys read: the summary (the first set of
// summary, message, description and title) and the runbook (runbook_url,
// else runbook). The cache holds only these in memory; the detail view
// reads the whole set from the file.
func ShownAnnotations(a Labels) Labels {
	sk, sv := firstSet(a, summaryKeys)
	rk, rv := firstSet(a, runbookKeys)
	n := 0
	if sk != "" {
		n++
	}
	if rk != "" {
		n++
	}
	if n == a.Len() {
		return a // nothing else to drop
	}
	var pairs [4]string
	p := pairs[:0]
	if sk != "" {
		p = append(p, sk, sv)
	}
	if rk != "" {
		p = append(p, rk, rv)
	}
	return LabelsFromPairs(p...)
}

// SignalTexts keeps, per signal of one snapshot, the text a free-text
// filter searches (see MatchesText), built on first use: most signals
// never need it, and a signal does not carry it. It is not safe for
// concurrent use: the UI keeps one per snapshot on its goroutine.
type SignalTexts map[*Signal]string

// MatchesText reports whether q (already lower-case) occurs in the signal's
// name, service, state, severity, sources, summary, runbook or any label
// name or value. The text searched is kept in texts when it is not nil.
func (s *Signal) MatchesText(q string, texts SignalTexts) bool {
	if q == "" {
		return true
	}
	h, ok := texts[s]
	if !ok {
		var b strings.Builder
		for _, p := range []string{s.Name(), s.Service, s.State.String(), s.Severity.String(), s.Summary()} {
			b.WriteString(p)
			b.WriteByte(0)
		}
		b.WriteString(strings.Join(s.Sources, "\x00"))
		for k, v := range s.Labels.All() {
			b.WriteString(k + "=" + v + "\x00")
		}
		for _, v := range s.Annotations.All() {
			b.WriteString(v + "\x00")
		}
		h = strings.ToLower(b.String())
		if texts != nil {
			texts[s] = h
		}
	}
	return strings.Contains(h, q)
}

// Outage is a service with at least one firing signal at or above the
// outage threshold.
type Outage struct {
	Service  string
	Mapped   bool
	Owner    string
	Runbook  string
	Severity Severity // worst firing severity
	// Since is when the outage began: the earliest Began of its signals,
	// the same instant the handoff report and stats count TTA and TTR
	// from. FirstSeen is when this console first saw any of them firing.
	Since     time.Time
	FirstSeen time.Time
	Alerts    int // firing or suppressed signals at or above the threshold
	// Silenced is set when every one of those signals is silenced
	// upstream (someone acknowledged it there); SilencedBy lists the
	// silence ids. Inhibited is set when every one of them is suppressed
	// and the Alertmanager says why is another alert (see Signal.Inhibited):
	// such an outage is a symptom of the inhibiting alerts' outage (its
	// ProbableCause, CauseInhibits set), not a silenced outage.
	Silenced        bool
	Inhibited       bool
	SilencedBy      []string
	SilencedAlerts  int // how many of Alerts are silenced (some of which may be inhibited too)
	InhibitedAlerts int // how many of Alerts are inhibited and not silenced
	Total           int // every open signal of the service (any state and severity)
	Suppressed      int // signals of the service silenced or inhibited upstream
	Sources         []string
	Stale           bool // every signal of the outage is stale
	StaleSince      time.Time
	Keys            []string // keys of the signals counted in Alerts

	// Impact is the service's place in the dependency graph (upstream,
	// downstream, teams to notify), shared with other snapshots; nil for a
	// service with no catalog entry, for which no dependency is claimed.
	Impact *Impact
	// ProbableCause is the deepest upstream service (along the longest
	// dependency path) that has an open outage itself, or "" when no
	// upstream is down. Ties go to the outage that opened first, then to
	// the name.
	ProbableCause string
	// Symptoms are the open outages whose probable cause is this outage,
	// nearest downstream first. An outage with a ProbableCause is itself
	// listed in its cause's Symptoms, so a cause/symptom view nests one
	// level deep.
	Symptoms []*Outage
	// CauseInhibits is set when ProbableCause is not a dependency but the
	// service of the alerts inhibiting every alert of this outage: the
	// Alertmanager's inhibit rules name the cause.
	CauseInhibits bool
	// causeDepth is how many dependency steps up ProbableCause is.
	causeDepth int

	// Pipeline is set on an outage of the alerting pipeline itself: a
	// rule group of a source whose alerting rules fail at evaluation,
	// where the catalog maps those rules to services (Blinds, sorted):
	// while it lasts, those services are not watched by them.
	Pipeline bool
	Blinds   []string
}

// IsSymptom reports whether the outage sits downstream of another open
// outage (it is listed in that outage's Symptoms).
func (o *Outage) IsSymptom() bool { return o.ProbableCause != "" }

// ServiceState is what the snapshot knows about one service right now,
// for the dependency trees.
type ServiceState struct {
	Firing     int      // firing signals of any severity
	Severity   Severity // worst firing severity; SevNone when nothing fires
	Pending    int
	Suppressed int
	Outage     *Outage // its open outage, or nil
	// Tickets counts the open tickets linked to the service when
	// TicketsKnown, which is false when no ticket source is configured:
	// the count must then be shown as unknown, never as zero.
	Tickets      int
	TicketsKnown bool
}

// Counts are the header totals.
type Counts struct {
	Outages    int
	Firing     int
	Pending    int
	Suppressed int // silenced or inhibited (see Signal.State)
	// Silenced and Inhibited count the suppressed signals silenced and
	// inhibited upstream, as the Alertmanager's silencedBy and
	// inhibitedBy do: a signal both silenced and inhibited is in both.
	Silenced  int
	Inhibited int
	Critical  int // firing critical signals
	Stale     int // stale signals
}

// Snapshot is everything the UI draws, built off the UI goroutine and never
// modified after it is published.
type Snapshot struct {
	Built   time.Time
	Signals []*Signal
	Outages []*Outage
	Sources []SourceStatus
	Counts  Counts
	// Services holds the state of every service with an open signal or
	// ticket; a service not in it has nothing open. See Service.
	Services map[string]*ServiceState
	// Tickets are the open tickets of the ticket sources, most urgent
	// first, and Backlog their summary per tier (see AttachTickets).
	Tickets []*TicketItem
	Backlog Backlog
	// Loading, when not zero, marks a preview shown while the cache is
	// being loaded: it is the number of open alert rows in the cache, of
	// which the snapshot holds only the most severe, so its counts,
	// signals and outages are partial. A preview is for the screen only;
	// nothing records or acts on it, and a complete snapshot replaces it.
	Loading int
	// CacheError, when set, is why the cache could not be read for a new
	// snapshot (locked, unreadable, …): the snapshot is the last one that
	// could be built, shown again with the reason, or, when its Built is
	// zero, holds nothing but the reason.
	CacheError string
	// CacheNote, when set, is what the operator should know about the
	// cache file in one line: that it was found corrupt, moved aside and
	// replaced by a fresh one (the log has the details).
	CacheNote string

	// inhibitors are the signals inhibiting each inhibited signal, by
	// key; nil when nothing is inhibited. See InhibitorsOf.
	inhibitors map[string][]*Signal
}

// InhibitorsOf returns the open signals of the alerts inhibiting s in
// this snapshot, resolved from the Alertmanager fingerprints in its
// InhibitedBy (those no longer open are left out).
func (s *Snapshot) InhibitorsOf(sig *Signal) []*Signal {
	if s == nil || sig == nil {
		return nil
	}
	return s.inhibitors[sig.Key]
}

// KeepStarts makes each outage of s begin no later than began[service]
// (when the history recorded it began): an outage whose alerts now start
// later (a Prometheus that restarted resets activeAt) keeps the older
// start, so the screen and the report tell one age. Call it before s is
// published.
func KeepStarts(s *Snapshot, began map[string]time.Time) {
	for _, o := range s.Outages {
		if b, ok := began[o.Service]; ok && !b.IsZero() && b.Before(o.Since) {
			o.Since = b
		}
	}
}

// Reissue returns s as built at now with statuses, for rows unchanged
// since it was built and statuses that differ at most in what signals do
// not depend on (when a source was last attempted, how long it took, how
// many items it returned; the poller's signalsSeal): its signals, which nothing
// modifies once built, are shared; its outages and service states, which
// AttachTickets and KeepStarts adjust on a snapshot about to be
// published, are copies; its tickets and backlog are left for
// AttachTickets. s is not modified. A console whose cache is unchanged
// so reissues its snapshot each second instead of building 100k signals
// again.
func (s *Snapshot) Reissue(now time.Time, statuses []SourceStatus) *Snapshot {
	c := *s
	c.Built, c.Sources = now, statuses
	c.Tickets, c.Backlog = nil, Backlog{}
	copies := make(map[*Outage]*Outage, len(s.Outages))
	slab := make([]Outage, len(s.Outages))
	if s.Outages != nil {
		c.Outages = make([]*Outage, len(s.Outages))
	}
	for i, o := range s.Outages {
		slab[i] = *o
		c.Outages[i], copies[o] = &slab[i], &slab[i]
	}
	for _, o := range c.Outages {
		if len(o.Symptoms) > 0 {
			sy := make([]*Outage, len(o.Symptoms))
			for i, x := range o.Symptoms {
				sy[i] = copies[x]
			}
			o.Symptoms = sy
		}
	}
	if s.Services != nil {
		c.Services = make(map[string]*ServiceState, len(s.Services))
		states := make([]ServiceState, 0, len(s.Services))
		for name, ss := range s.Services {
			states = append(states, *ss)
			st := &states[len(states)-1]
			if st.Outage != nil {
				st.Outage = copies[st.Outage]
			}
			c.Services[name] = st
		}
	}
	return &c
}

// Service returns the state of the named service; a service with nothing
// open has the zero state.
func (s *Snapshot) Service(name string) ServiceState {
	if st := s.Services[name]; st != nil {
		return *st
	}
	return ServiceState{TicketsKnown: s.Backlog.Known}
}

// Outage returns the open outage of the named service, or nil.
func (s *Snapshot) Outage(name string) *Outage {
	if st := s.Services[name]; st != nil {
		return st.Outage
	}
	return nil
}

// SnapshotOptions tune BuildSnapshot.
type SnapshotOptions struct {
	Now             time.Time
	OutageThreshold Severity // default SevCritical
	Catalog         *Catalog
	// PipelineOutages makes each severe failing alerting rule that the
	// catalog maps to a service a signal of its own (alertname
	// RuleFailing), whose service is "<source>/<group> rules": at or
	// above the threshold, an outage of the alerting pipeline (Pipeline
	// set, Blinds naming the services its failing rules watch), acked,
	// escalated and noted like any other.
	PipelineOutages bool
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
	sourceNames := sourceList{}
	inhibited := false // some row is inhibited
	// Visit rows in source order so the merged labels are deterministic.
	order := sourceOrder(rows, status)
	slab := Slab[Signal]{Next: 64}
	for _, i := range order {
		r := rows[i]
		st := status[r.Source]
		fresh := st.LastError == "" && !strings.HasPrefix(st.Note, EmptyReplyNote)
		// A suppressed row is firing upstream: the rows merge as firing,
		// and the signal is suppressed only once every voter says so.
		state := r.State
		if state == StateSuppressed {
			state = StateFiring
		}
		sig := byKey[r.Key]
		if sig == nil {
			// Signals are carved from slabs: a snapshot's live and
			// die together. The slabs grow up to 4096 signals, so an
			// HA pair (two rows a signal) wastes at most one's tail.
			sig = slab.New(len(order) - len(snap.Signals))
			*sig = Signal{
				AlertRow:     r,
				Severity:     ParseSeverity(r.Labels.Get("severity")),
				State:        state,
				Sources:      sourceNames.of(r.Source),
				Stale:        true,
				startPending: r.State == StatePending,
			}
			sig.Service, sig.Mapped = opt.Catalog.ServiceFor(r.Labels)
			byKey[r.Key] = sig
			snap.Signals = append(snap.Signals, sig)
		} else {
			sig.mergeRow()
			sig.Sources = append(sig.Sources, r.Source)
			if r.Suppressed != nil {
				sig.Suppressed = Suppress(appendUnique(slices.Clip(sig.SilencedBy()), r.SilencedBy()...),
					appendUnique(slices.Clip(sig.InhibitedBy()), r.InhibitedBy()...))
			}
			if mergeRank(state) > mergeRank(sig.State) {
				sig.State = state
			}
			// A pending row's start is when its rule began waiting
			// (activeAt), not when it fired: once any source fires
			// the alert, only firing rows say when it began.
			fired := r.State != StatePending
			if !r.StartsAt.IsZero() {
				switch {
				case sig.StartsAt.IsZero() || (fired && sig.startPending):
					sig.StartsAt, sig.startPending = r.StartsAt, !fired
				case fired != sig.startPending && r.StartsAt.Before(sig.StartsAt):
					sig.StartsAt = r.StartsAt
				}
			}
			if r.FirstSeen.Before(sig.FirstSeen) {
				sig.FirstSeen = r.FirstSeen
			}
			if !r.FiredSeen.IsZero() && (sig.FiredSeen.IsZero() || r.FiredSeen.Before(sig.FiredSeen)) {
				sig.FiredSeen = r.FiredSeen
			}
			if r.LastSeen.After(sig.LastSeen) {
				sig.LastSeen = r.LastSeen
			}
			if sig.GeneratorURL == "" {
				sig.GeneratorURL = r.GeneratorURL
			}
			if r.Annotations.Len() > sig.Annotations.Len() {
				sig.Annotations = r.Annotations
			}
		}
		if r.State == StateSuppressed {
			sig.Voters++
			if len(r.InhibitedBy()) > 0 {
				sig.InhibitedIn++
				inhibited = true
			}
			if len(r.SilencedBy()) > 0 || len(r.InhibitedBy()) == 0 {
				sig.SilencedIn++
			}
		} else if st.Type == sourceTypeAlertmanager {
			sig.Voters++
			sig.paging |= 1 << min(len(sig.Sources)-1, 31)
		}
		if fresh {
			sig.Stale = false
		}
		// The age of the data shown: the freshest poll that returned the
		// alert, whichever source it came from (a source that answers
		// but is suspect did not return it).
		if r.LastSeen.After(sig.StaleSince) {
			sig.StaleSince = r.LastSeen
		}
	}
	for _, sig := range snap.Signals {
		if sig.Voters > 0 && sig.paging == 0 {
			sig.State = StateSuppressed
		}
	}
	// The alerts of a rule failing upstream are marked; with
	// PipelineOutages, the failing rules become signals of their own.
	var blinds map[string][]string
	if failing := ruleFailures(statuses); failing != nil {
		markRuleFailing(snap.Signals, failing)
		if opt.PipelineOutages {
			var extra []*Signal
			extra, blinds = pipelineSignals(statuses, opt.Catalog, byKey)
			snap.Signals = append(snap.Signals, extra...)
		}
	}
	if inhibited {
		snap.inhibitors = resolveInhibitors(snap.Signals, byKey, rows, order, status)
	}
	sortSignals(snap.Signals)

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
			if sig.SilencedIn > 0 {
				snap.Counts.Silenced++
			}
			if sig.InhibitedIn > 0 {
				snap.Counts.Inhibited++
			}
		}
		if sig.Stale {
			snap.Counts.Stale++
		}
		// A silenced or inhibited alert is still firing upstream: it keeps
		// its outage open (shown as silenced) rather than hiding it.
		if (sig.State != StateFiring && sig.State != StateSuppressed) || sig.Severity < opt.OutageThreshold {
			continue
		}
		o := outages[sig.Service]
		if o == nil {
			o = &Outage{Service: sig.Service, Mapped: sig.Mapped, Since: sig.Began(), FirstSeen: sig.Seen(), Stale: true, Silenced: true, Inhibited: true}
			if svc := opt.Catalog.Lookup(sig.Service); svc != nil {
				o.Owner, o.Runbook = svc.Owner, svc.Runbook
			}
			if b, ok := blinds[sig.Service]; ok && !sig.Mapped {
				o.Pipeline, o.Blinds = true, b
			}
			outages[sig.Service] = o
			snap.Outages = append(snap.Outages, o)
		}
		if sig.Severity > o.Severity {
			o.Severity = sig.Severity
		}
		if b := sig.Began(); !b.IsZero() && (o.Since.IsZero() || b.Before(o.Since)) {
			o.Since = b
		}
		if seen := sig.Seen(); !seen.IsZero() && (o.FirstSeen.IsZero() || seen.Before(o.FirstSeen)) {
			o.FirstSeen = seen
		}
		o.Alerts++
		o.Keys = append(o.Keys, sig.Key)
		switch {
		case sig.State != StateSuppressed:
			o.Silenced, o.Inhibited = false, false
		case sig.SilencedIn > 0:
			o.SilencedAlerts++
			o.SilencedBy = appendUnique(o.SilencedBy, sig.SilencedBy()...)
			if sig.InhibitedIn == 0 {
				o.Inhibited = false
			}
		default:
			o.InhibitedAlerts++
			o.Silenced = false
		}
		o.Sources = appendUnique(o.Sources, sig.Sources...)
		if !sig.Stale {
			o.Stale = false
		}
		if t := sig.StaleSince.Time(); t.After(o.StaleSince) {
			o.StaleSince = t
		}
	}
	snap.Services = make(map[string]*ServiceState, len(outages)+16)
	var last *ServiceState
	lastName := ""
	for _, sig := range snap.Signals {
		ss := last
		if ss == nil || sig.Service != lastName {
			ss = snap.Services[sig.Service]
			if ss == nil {
				ss = &ServiceState{Outage: outages[sig.Service]}
				snap.Services[sig.Service] = ss
			}
			last, lastName = ss, sig.Service
		}
		switch sig.State {
		case StateFiring:
			ss.Firing++
			if sig.Severity > ss.Severity {
				ss.Severity = sig.Severity
			}
		case StatePending:
			ss.Pending++
		case StateSuppressed:
			ss.Suppressed++
		}
		if o := ss.Outage; o != nil {
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
	if inhibited {
		for _, o := range snap.Outages {
			if !o.Inhibited {
				continue
			}
			if c := inhibitionCause(o, snap.inhibitors, outages); c != nil {
				o.ProbableCause, o.CauseInhibits, o.causeDepth = c.Service, true, 1
			}
		}
	}
	linkCauses(snap.Outages, outages, opt.Catalog)
	return snap
}

// sourceTypeAlertmanager is the type of the sources that silence and
// inhibit alerts: each one holding an alert has a say in whether it is.
const sourceTypeAlertmanager = "alertmanager"

// resolveInhibitors sets each inhibited signal's Inhibitors from the
// fingerprints in its InhibitedBy. An Alertmanager's fingerprint is that
// of the alert's whole label set, which is the signal's key unless its
// source leaves labels out of keys: only when a fingerprint is not a key
// are the Alertmanager rows' label sets fingerprinted to find it.
func resolveInhibitors(signals []*Signal, byKey map[string]*Signal, rows []*AlertRow, order []int, status map[string]*SourceStatus) map[string][]*Signal {
	var byFP map[string]*Signal
	out := map[string][]*Signal{}
	for _, sig := range signals {
		for _, fp := range sig.InhibitedBy() {
			by := byKey[fp]
			if by == nil {
				if byFP == nil {
					byFP = make(map[string]*Signal)
					for _, i := range order {
						if r := rows[i]; status[r.Source].Type == sourceTypeAlertmanager {
							byFP[LabelsKey(r.Labels, nil)] = byKey[r.Key]
						}
					}
				}
				by = byFP[fp]
			}
			if by != nil && by != sig && !slices.Contains(out[sig.Key], by) {
				out[sig.Key] = append(out[sig.Key], by)
			}
		}
	}
	return out
}

// inhibitionCause is the open outage of the service whose alerts inhibit
// every alert of o (o.Inhibited), or nil: when they come from several
// services, the outage that opened first.
func inhibitionCause(o *Outage, inhibitors map[string][]*Signal, byService map[string]*Outage) *Outage {
	var best *Outage
	for _, k := range o.Keys {
		for _, by := range inhibitors[k] {
			c := byService[by.Service]
			if c == nil || c == o || c.Inhibited {
				continue
			}
			if best == nil || c != best && causeBefore(c, best) {
				best = c
			}
		}
	}
	return best
}

// linkCauses attaches each outage's dependency impact, finds its probable
// cause among the other open outages and nests symptoms under their
// cause. An outage whose cause is already set by inhibition
// (CauseInhibits) keeps it, whatever the catalog says. Only the upstream
// tree of each outage is walked: the trees themselves are computed once
// per catalog.
func linkCauses(list []*Outage, byService map[string]*Outage, cat *Catalog) {
	linked := false // some outage has a cause
	if cat != nil && len(cat.Services) > 0 {
		for _, o := range list {
			o.Impact = cat.Impact(o.Service)
		}
	}
	if len(list) < 2 {
		return
	}
	for _, o := range list {
		if o.CauseInhibits {
			linked = true
			continue
		}
		if o.Impact == nil {
			continue
		}
		var best *Outage
		depth := 0
		for i := range o.Impact.Upstream {
			n := &o.Impact.Upstream[i]
			c := byService[n.Service]
			if c == nil || c == o {
				continue
			}
			if best == nil || n.Depth > depth || n.Depth == depth && causeBefore(c, best) {
				best, depth = c, n.Depth
			}
		}
		if best != nil {
			o.ProbableCause, o.causeDepth = best.Service, depth
			linked = true
		}
	}
	if !linked {
		return
	}
	// In an acyclic graph the deepest failing upstream has no failing
	// upstream itself. Only a cycle (never a validated config) breaks that:
	// such outages stay causes rather than nest under each other.
	for _, o := range list {
		if c := byService[o.ProbableCause]; c != nil && c.ProbableCause == "" {
			c.Symptoms = append(c.Symptoms, o)
		}
	}
	var orphans []*Outage
	for _, o := range list {
		if c := byService[o.ProbableCause]; c != nil && c.ProbableCause != "" {
			orphans = append(orphans, o)
		}
	}
	for _, o := range orphans {
		o.ProbableCause, o.CauseInhibits, o.causeDepth = "", false, 0
	}
	for _, o := range list {
		if len(o.Symptoms) > 1 {
			// list is in display order already: a stable sort by distance keeps it within a distance
			sort.SliceStable(o.Symptoms, func(i, j int) bool { return o.Symptoms[i].causeDepth < o.Symptoms[j].causeDepth })
		}
	}
}

// causeBefore breaks a tie between two candidate causes at the same depth:
// the outage that opened first, then the name.
func causeBefore(a, b *Outage) bool {
	if !a.Since.Equal(b.Since) {
		return !a.Since.IsZero() && (b.Since.IsZero() || a.Since.Before(b.Since))
	}
	return a.Service < b.Service
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

// sourceOrder returns the indexes of the open rows of the sources in
// status, ordered by source name and, within a source, as in rows: a
// counting sort over the few names (sorting 10k rows by name took an
// eighth of a snapshot's build).
func sourceOrder(rows []*AlertRow, status map[string]*SourceStatus) []int {
	var names []string // the configured sources met, in order met
	var counts []int   // their open rows
	// Every source met and its index in names (-1: not configured), so
	// that rows alternating between sources (an HA pair's) cost no map
	// lookup each.
	var met []string
	var index []int32
	of := make([]int32, len(rows)) // index in names of each row's source; -1: left out
	last, at := "", int32(-2)      // the source of the row before (-2: none yet) and its index
	for i, r := range rows {
		if at == -2 || r.Source != last {
			last = r.Source
			k := slices.Index(met, last)
			if k < 0 {
				k, at = len(met), -1
				if status[last] != nil {
					at = int32(len(names))
					names, counts = append(names, last), append(counts, 0)
				}
				met, index = append(met, last), append(index, at)
			}
			at = index[k]
		}
		if at < 0 || r.Resolved() {
			of[i] = -1
			continue
		}
		of[i] = at
		counts[at]++
	}
	// Where each source's rows begin, in name order.
	byName := make([]int, len(names))
	for i := range byName {
		byName[i] = i
	}
	slices.SortFunc(byName, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	start, n := make([]int, len(names)), 0
	for _, k := range byName {
		start[k], n = n, n+counts[k]
	}
	order := make([]int, n)
	for i, k := range of {
		if k >= 0 {
			order[start[k]] = i
			start[k]++
		}
	}
	return order
}

// sortSignals orders signals worst first: by severity, state, start
// (earliest first), name and key. Each name is read from its labels once,
// not at every comparison: alerts that fire together tie up to the name,
// and sorting 10k of them read names 280k times.
func sortSignals(sigs []*Signal) {
	type named struct {
		*Signal
		name string
	}
	byName := make([]named, len(sigs))
	for i, s := range sigs {
		byName[i] = named{s, s.Name()}
	}
	slices.SortFunc(byName, func(a, b named) int {
		if a.Severity != b.Severity {
			return cmp.Compare(b.Severity, a.Severity)
		}
		if ar, br := a.State.Rank(), b.State.Rank(); ar != br {
			return cmp.Compare(br, ar)
		}
		if a.StartsAt != b.StartsAt {
			return cmp.Compare(a.StartsAt, b.StartsAt)
		}
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	for i := range byName {
		sigs[i] = byName[i].Signal
	}
}

// mergeRow gives the signal a row of its own before a second source's
// row is merged into it: the first is the cache's, shared (its
// Suppressed is replaced, not modified, and its slices clipped so that
// appending to them copies).
func (s *Signal) mergeRow() {
	if s.merged {
		return
	}
	m := *s.AlertRow
	s.AlertRow, s.merged = &m, true
}

// sourceList hands out one shared slice per source name for the Sources
// of signals held by one source (most of them), instead of one each.
// Appending to it copies (its capacity is its length).
type sourceList map[string][]string

func (l sourceList) of(name string) []string {
	if s, ok := l[name]; ok {
		return s
	}
	s := []string{name}
	l[name] = s
	return s
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
