package model

import (
	"maps"
	"slices"
	"strings"
	"time"
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
