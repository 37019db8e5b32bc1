// Package model holds sitroom's domain types and the pure logic over them:
// alerts as seen by one source, signals merged across sources, the service
// catalog, outages and the snapshot the UI draws. It does no I/O.
package model

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	pmodel "github.com/prometheus/common/model"
)

// State is the state of an alert as its source reports it. It is one
// byte (there is one in every row and every signal, 100k of each); it
// reads and writes itself as its name (String, MarshalText, ParseState),
// as the cache stores it.
type State uint8

const (
	StateNone       State = iota // no state: the zero value
	StateFiring                  // active in Prometheus, active in Alertmanager
	StatePending                 // Prometheus rule waiting for its `for:` duration
	StateSuppressed              // Alertmanager: silenced or inhibited
)

var stateNameOf = [...]string{StateNone: "", StateFiring: "firing", StatePending: "pending", StateSuppressed: "suppressed"}

// String is the state's name: firing, pending, suppressed ("" for none).
func (s State) String() string {
	if int(s) < len(stateNameOf) {
		return stateNameOf[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// ParseState reads a state's name; ok is false for any other text.
func ParseState(name string) (State, bool) {
	for i, n := range stateNameOf {
		if n == name {
			return State(i), true
		}
	}
	return StateNone, false
}

// MarshalText writes the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *State) UnmarshalText(b []byte) error {
	st, ok := ParseState(string(b))
	if !ok {
		return fmt.Errorf("unknown alert state %q", b)
	}
	*s = st
	return nil
}

// Rank orders states for display: firing before suppressed before pending.
func (s State) Rank() int {
	switch s {
	case StateFiring:
		return 3
	case StateSuppressed:
		return 2
	case StatePending:
		return 1
	}
	return 0
}

// Alert is one alert as one source reports it in one poll.
type Alert struct {
	// Key identifies the alert across sources: the fingerprint of its labels
	// minus the labels the source was told to ignore (see LabelsKey).
	Key          string
	Labels       Labels
	Annotations  Labels
	State        State
	StartsAt     Stamp // when it began upstream; zero when unknown
	GeneratorURL string
	// Suppressed says why the source suppresses it; nil when it names no
	// silence and no inhibiting alert (nearly every alert: one pointer
	// instead of two slices in a row per open alert). Read it through
	// SilencedBy and InhibitedBy; never modify one in place, replace it.
	Suppressed *Suppression
}

// Suppression is why a source suppresses an alert.
type Suppression struct {
	SilencedBy  []string // silence ids
	InhibitedBy []string // fingerprints of the alerts inhibiting it
}

// Suppress returns a Suppression of the given ids, or nil when both are
// empty.
func Suppress(silencedBy, inhibitedBy []string) *Suppression {
	if len(silencedBy) == 0 && len(inhibitedBy) == 0 {
		return nil
	}
	return &Suppression{SilencedBy: silencedBy, InhibitedBy: inhibitedBy}
}

// SilencedBy are the ids of the silences the source says silence it.
func (a *Alert) SilencedBy() []string {
	if a.Suppressed == nil {
		return nil
	}
	return a.Suppressed.SilencedBy
}

// InhibitedBy are the fingerprints of the alerts the source says inhibit
// it.
func (a *Alert) InhibitedBy() []string {
	if a.Suppressed == nil {
		return nil
	}
	return a.Suppressed.InhibitedBy
}

// Name is the alertname label.
func (a *Alert) Name() string { return a.Labels.Get("alertname") }

// LabelsKey computes the identity of a label set, ignoring the named labels
// (for example a Prometheus replica or external label that its Alertmanager
// sees but its own API does not). It is the Prometheus fingerprint (FNV-64a
// over sorted pairs) in hex, so it is stable across processes and versions.
func LabelsKey(labels Labels, ignore []string) string {
	ls := make(pmodel.LabelSet, 16)
	for k, v := range labels.All() {
		ls[pmodel.LabelName(k)] = pmodel.LabelValue(v)
	}
	for _, k := range ignore {
		delete(ls, pmodel.LabelName(k))
	}
	return ls.Fingerprint().String()
}

// ContentHash hashes everything about an alert that the cache stores, so an
// unchanged alert costs no write. Map iteration order does not matter.
func (a *Alert) ContentHash() uint64 {
	h := fnv.New64a()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0xff}) }
	w(a.Key)
	w(a.State.String())
	w(a.StartsAt.Time().Format(time.RFC3339Nano))
	w(a.GeneratorURL)
	writeMap(w, a.Labels)
	w("\x00annotations")
	writeMap(w, a.Annotations)
	w("\x00silenced")
	for _, s := range a.SilencedBy() {
		w(s)
	}
	w("\x00inhibited")
	for _, s := range a.InhibitedBy() {
		w(s)
	}
	return h.Sum64()
}

func writeMap(w func(string), l Labels) {
	for k, v := range l.All() {
		w(k)
		w(v)
	}
}

// AlertRow is an alert as the cache holds it for one source, with its history.
// Rows handed out by the cache are never modified afterwards: an update
// replaces the row, so readers on other goroutines need no lock.
type AlertRow struct {
	Source string
	Alert
	FirstSeen  Stamp // first poll that returned it
	FiredSeen  Stamp // first poll that returned it firing or suppressed; zero while only pending
	LastSeen   Stamp // last poll that returned it
	Missed     int   // consecutive successful polls without it
	ResolvedAt Stamp // zero while open; set after two consecutive misses
}

// Resolved reports whether the row has been resolved.
func (r *AlertRow) Resolved() bool { return !r.ResolvedAt.IsZero() }

// SourceHealth is the summarised state of a source for its header chip.
type SourceHealth string

const (
	HealthUnknown  SourceHealth = "unknown"  // never polled yet
	HealthOK       SourceHealth = "ok"       // last poll succeeded
	HealthDegraded SourceHealth = "degraded" // last poll succeeded but is suspect (e.g. empty after alerts), or its alerting pipeline is failing
	HealthDown     SourceHealth = "down"     // last poll failed
	// HealthThrottled: the upstream is rate-limiting sitroom (the last poll
	// failed, or succeeded only after backing off). Sources word such errors
	// and notes starting with ThrottledPrefix.
	HealthThrottled SourceHealth = "throttled"
)

// EmptyReplyNote starts the status note of a source that answered with no
// alerts while the cache held open ones from it. Such a reply is suspect:
// its rows are kept, shown stale, and not resolved for a while.
const EmptyReplyNote = "empty reply"

// ThrottledPrefix starts every error or note a source reports when its
// upstream rate-limits it, so the chip says "throttled" rather than "down".
const ThrottledPrefix = "throttled"

// SourceStatus is what the cache records about each source's polling.
type SourceStatus struct {
	Name        string
	Type        string
	LastAttempt time.Time
	LastSuccess time.Time
	LastError   string // empty when the last attempt succeeded
	Latency     time.Duration
	Items       int    // alerts (tickets, for a ticket source) returned by the last successful poll
	Note        string // a warning about a successful poll, e.g. "empty reply after 12 alerts"
	// Findings are what the upstream reports about its own alerting
	// pipeline (failing rules, a failed reload, a split cluster), read on
	// a slower clock than its alerts; a severe one makes it degraded.
	Findings []Finding
	// HealthRead is when a poller last began reading those findings
	// (zero: never). Stored with the status, it lets a poller started
	// since, in this process or another, keep to the same clock.
	HealthRead time.Time
}

// Health derives the chip state from the status.
func (s *SourceStatus) Health() SourceHealth {
	switch {
	case s.LastAttempt.IsZero():
		return HealthUnknown
	case strings.HasPrefix(s.LastError, ThrottledPrefix):
		return HealthThrottled
	case s.LastError != "":
		return HealthDown
	case strings.HasPrefix(s.Note, ThrottledPrefix):
		return HealthThrottled
	case s.Note != "", s.Severe():
		return HealthDegraded
	}
	return HealthOK
}
