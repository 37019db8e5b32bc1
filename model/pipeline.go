package model

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// FindingKind is what part of an upstream's alerting pipeline a Finding
// is about.
type FindingKind string

// The kinds of Finding.
const (
	FindingRule    FindingKind = "rule"    // a rule whose evaluation fails
	FindingStuck   FindingKind = "stuck"   // a rule group not evaluated for 3 of its intervals
	FindingReload  FindingKind = "reload"  // the last config (rules) reload failed
	FindingCluster FindingKind = "cluster" // an Alertmanager that lost its cluster peers
	FindingNotify  FindingKind = "notify"  // an Alertmanager Prometheus cannot deliver to
	FindingNote    FindingKind = "note"    // something sitroom could not read or that is not offered
)

// Finding is one thing an upstream reports about its own alerting health:
// a failing rule, a failed reload, a split cluster, an Alertmanager not
// receiving, or a note that a health endpoint could not be read. Findings
// are read on a slower clock than alerts and stored with the source's
// status, so every console sharing the cache sees them.
type Finding struct {
	Kind FindingKind
	// Subject is what the finding is about, in sitroom's words: the rule
	// ("group/rule"), the rule group, "config reload failed", "cluster split
	// (1 of 2 peers)", "127.0.0.1:9093 not receiving".
	Subject string
	// Text is the upstream's own words (a rule's lastError, a cluster
	// status), untrusted: shown only through ui.Inert.
	Text string
	// Since is when it began, as the upstream says (lastConfigTime) or,
	// when it cannot say, when sitroom first saw it.
	Since time.Time
	// Severe findings make the source degraded and `sitroom check` fail;
	// notes are not severe.
	Severe bool
	// Labels are, for a failing alerting rule, the rule's own labels and
	// its alertname: what its alerts carry, so they can be told apart
	// and the catalog can say which service the rule watches. Nil for
	// other findings.
	Labels map[string]string
}

// SameFindings reports whether a and b hold the same findings in the same
// order.
func SameFindings(a, b []Finding) bool {
	return slices.EqualFunc(a, b, func(x, y Finding) bool {
		return x.Kind == y.Kind && x.Subject == y.Subject && x.Text == y.Text && x.Severe == y.Severe && x.Since.Equal(y.Since) &&
			maps.Equal(x.Labels, y.Labels)
	})
}

// Severe reports whether any finding of the status is severe.
func (s *SourceStatus) Severe() bool {
	return slices.ContainsFunc(s.Findings, func(f Finding) bool { return f.Severe })
}

// PipelineReason says in few words why the source's alerting pipeline is
// degraded ("3 rules failing; config reload failed 12m ago"), or "" when
// no finding is severe. now words how long ago a reload failed.
func (s *SourceStatus) PipelineReason(now time.Time) string {
	var rules, stuck int
	var parts []string
	for _, f := range s.Findings {
		if !f.Severe {
			continue
		}
		switch f.Kind {
		case FindingRule:
			rules++
		case FindingStuck:
			stuck++
		case FindingReload:
			p := f.Subject
			if !f.Since.IsZero() && now.After(f.Since) {
				p += " " + roughAgo(now.Sub(f.Since)) + " ago"
			}
			parts = append(parts, p)
		default:
			parts = append(parts, f.Subject)
		}
	}
	var head []string
	if rules > 0 {
		head = append(head, Plural(rules, "rule", "rules")+" failing")
	}
	if stuck > 0 {
		head = append(head, Plural(stuck, "rule group", "rule groups")+" stuck")
	}
	return strings.Join(append(head, parts...), "; ")
}

// roughAgo words d in one unit, rounded down: "40s", "12m", "3h", "2d".
func roughAgo(d time.Duration) string {
	switch {
	case d < time.Minute:
		return itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return itoa(int(d/time.Hour)) + "h"
	}
	return itoa(int(d/(24*time.Hour))) + "d"
}

// ruleFailure is a severe FindingRule with labels, as BuildSnapshot uses
// it: the source that reports it and the finding.
type ruleFailure struct {
	source string
	f      *Finding
}

// ruleFailures indexes the severe FindingRule findings with labels of
// every status by the alertname their alerts carry; nil when there are
// none, which is the common case and costs one pass over the findings.
func ruleFailures(statuses []SourceStatus) map[string][]ruleFailure {
	var idx map[string][]ruleFailure
	for i := range statuses {
		st := &statuses[i]
		for j := range st.Findings {
			f := &st.Findings[j]
			if f.Kind != FindingRule || !f.Severe || f.Labels == nil {
				continue
			}
			if idx == nil {
				idx = make(map[string][]ruleFailure)
			}
			name := f.Labels["alertname"]
			idx[name] = append(idx[name], ruleFailure{source: st.Name, f: f})
		}
	}
	return idx
}

// markRuleFailing marks each signal whose rule fails upstream: one of its
// sources reports a failing rule whose every label (alertname included)
// the signal carries with the same value. When several do, the one failing
// longest marks it. The signal's state does not change: it is still what
// the upstream last evaluated, only in doubt.
func markRuleFailing(signals []*Signal, idx map[string][]ruleFailure) {
	for _, sig := range signals {
		cands := idx[sig.Name()]
		if len(cands) == 0 {
			continue
		}
		var best *Finding
		for _, c := range cands {
			if !slices.Contains(sig.Sources, c.source) || !carries(sig.Labels, c.f.Labels) {
				continue
			}
			if best == nil || c.f.Since.Before(best.Since) {
				best = c.f
			}
		}
		if best != nil {
			sig.RuleFailing = &RuleFailure{Since: best.Since, Error: best.Text}
		}
	}
}

// carries reports whether labels holds every label of want with the same
// value.
func carries(labels Labels, want map[string]string) bool {
	for k, v := range want {
		if got, ok := labels.Lookup(k); !ok || got != v {
			return false
		}
	}
	return true
}

// PipelineAlertName is the alertname of the signals sitroom makes of
// failing alerting rules (see SnapshotOptions.PipelineOutages).
const PipelineAlertName = "RuleFailing"

// pipelineSummaryMax bounds the upstream's words in a pipeline signal's
// summary, in bytes.
const pipelineSummaryMax = 200

// pipelineSignals makes one signal of each severe failing alerting rule
// that the catalog maps to a service, keyed so it cannot collide with an
// upstream fingerprint ("pipeline/<source>/<group>/<rule>"), of the
// service "<source>/<group> rules": one outage per source and rule group,
// whose blinds (sorted) it returns by that name. Signals whose key is
// already taken are left out. The catalog is asked once per finding.
func pipelineSignals(statuses []SourceStatus, cat *Catalog, taken map[string]*Signal) ([]*Signal, map[string][]string) {
	var out []*Signal
	var blinds map[string][]string
	for i := range statuses {
		st := &statuses[i]
		for j := range st.Findings {
			f := &st.Findings[j]
			if f.Kind != FindingRule || !f.Severe || f.Labels == nil {
				continue
			}
			watched, mapped := cat.ServiceFor(LabelsFromMap(f.Labels))
			if !mapped {
				continue
			}
			key := "pipeline/" + st.Name + "/" + f.Subject
			if taken[key] != nil {
				continue
			}
			group, rule := f.Subject, f.Labels["alertname"]
			if k := strings.LastIndexByte(f.Subject, '/'); k >= 0 {
				group, rule = f.Subject[:k], f.Subject[k+1:]
			}
			service := st.Name + "/" + group + " rules"
			labels := map[string]string{
				"alertname":  PipelineAlertName,
				"rule":       rule,
				"rule_group": group,
				"service":    watched,
			}
			if sev := f.Labels["severity"]; sev != "" {
				labels["severity"] = sev
			}
			sig := &Signal{
				AlertRow: &AlertRow{
					Source: st.Name,
					Alert: Alert{
						Key:    key,
						Labels: LabelsFromMap(labels),
						Annotations: LabelsFromPairs(
							"summary", "rule "+rule+" failing: "+clipText(f.Text, pipelineSummaryMax),
							"description", "Rule "+rule+" of group "+group+" on "+st.Name+
								" fails at evaluation: "+watched+" is not watched by it while it fails.",
						),
						State:    StateFiring,
						StartsAt: StampOf(f.Since),
					},
					FirstSeen: StampOf(f.Since),
					FiredSeen: StampOf(f.Since),
					LastSeen:  StampOf(st.LastSuccess),
				},
				Service:    service,
				Severity:   ParseSeverity(labels["severity"]),
				State:      StateFiring,
				Sources:    []string{st.Name},
				Stale:      st.LastError != "",
				StaleSince: StampOf(st.LastSuccess),
			}
			taken[key] = sig
			out = append(out, sig)
			if blinds == nil {
				blinds = make(map[string][]string)
			}
			if !slices.Contains(blinds[service], watched) {
				blinds[service] = append(blinds[service], watched)
			}
		}
	}
	for _, b := range blinds {
		slices.Sort(b)
	}
	return out, blinds
}

// clipText cuts s to at most n bytes on a rune boundary, with "…" when
// it was cut.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
