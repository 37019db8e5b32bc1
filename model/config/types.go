// Package config is sitroom's YAML configuration: typed, strictly decoded
// (unknown keys are errors naming their key path), defaulted and validated.
package config

import (
	"os"
	"time"

	pconfig "github.com/prometheus/common/config"
	pmodel "github.com/prometheus/common/model"
)

// Config is the whole configuration file.
//
// A Config is built by Parse or Load (decoded, defaulted, validated) or by
// hand (then call Validate before use). It is not safe for concurrent
// mutation; once validated it is read-only and may be shared.
type Config struct {
	// OperatorRoles maps OS users (and groups, prefixed with @) to roles.
	OperatorRoles map[string]string `yaml:"operator_roles,omitempty"`
	// OutageThreshold is the lowest severity that makes a firing alert an
	// outage: critical (default), warning or info.
	OutageThreshold string `yaml:"outage_threshold,omitempty"`
	// PipelineOutages, on unless set false, makes a rule group whose
	// alerting rules fail at evaluation, where the catalog maps those
	// rules to services, an outage of the alerting pipeline (see
	// PipelineOutagesOn).
	PipelineOutages *bool `yaml:"pipeline_outages,omitempty"`
	// Sources are the upstream systems to poll.
	Sources []Source `yaml:"sources"`
	// Services is the service catalog: how alerts map to services and how
	// services depend on each other.
	Services []Service `yaml:"services,omitempty"`
	// Escalation is the escalation policy, lowest level first.
	Escalation []Level `yaml:"escalation,omitempty"`
	// Webhooks are told about every escalation.
	Webhooks []Webhook `yaml:"webhooks,omitempty"`
	// History is retention, outage_grace and shifts (handoff.go).
	History `yaml:",inline"`
	// Runbooks is runbooks_dir and runbooks_url (runbooks.go).
	Runbooks `yaml:",inline"`
	// Display is the colour theme (display.go).
	Display `yaml:",inline"`
	// Console is keys and views: remapped keys and named views (keys.go).
	Console `yaml:",inline"`
	// Team names the team store shared by every console (team.go).
	Team Team `yaml:"team,omitempty"`
	// Teams are the teams services' owner names, with their channels
	// (notify.go).
	Teams []OwnerTeam `yaml:"teams,omitempty"`
	// SMTP is the mail relay of email channels.
	SMTP *SMTP `yaml:"smtp,omitempty"`
	// NotifyAfter is how soon every impacted team must be told of an
	// outage before it shows UNTOLD; 0 (the default) is off.
	NotifyAfter pmodel.Duration `yaml:"notify_after,omitempty"`

	// baseDir is the directory relative paths resolve against.
	baseDir string
	// path and mode describe the file the config was loaded from.
	path string
	mode os.FileMode
	// lines maps key paths to the line they appear on in the file.
	lines map[string]int
}

// Source is one upstream to poll. HTTP sources take prometheus/common's
// HTTPClientConfig fields inline, exactly as a Prometheus scrape_config does.
type Source struct {
	// Name identifies the source on screen and in the cache; unique.
	Name string `yaml:"name"`
	// Type is the kind of upstream; one of SourceTypes.
	Type string `yaml:"type"` // prometheus | alertmanager | cloudwatch | rt | jira | servicenow
	// URL is the absolute http(s) base URL of the upstream's API; required
	// for the HTTP sources (prometheus, alertmanager), not used by
	// cloudwatch.
	URL string `yaml:"url,omitempty"`
	// Interval is the time between polls; default 15s.
	Interval pmodel.Duration `yaml:"interval,omitempty"` // default 15s
	// Timeout bounds one request; default 10s (or Interval if shorter),
	// never more than Interval.
	Timeout pmodel.Duration `yaml:"timeout,omitempty"` // per request; default 10s, at most interval
	// MatchIgnoreLabels are dropped before an alert's identity is computed
	// (they stay on the row), so alerts that differ only in them are one
	// row: an HA pair of Prometheus servers whose replica label differs.
	// The labels every source names here are ignored by all sources alike.
	// A Prometheus source's own external labels need no entry: it learns
	// them from the server's config.
	MatchIgnoreLabels []string `yaml:"match_ignore_labels,omitempty"`

	// CloudWatch holds the settings of a cloudwatch source (region,
	// profile, role_arn, ...); they are valid only on such a source.
	CloudWatch `yaml:",inline"`

	// Tickets holds the settings of a ticket source (rt, jira,
	// servicenow): tiers, escalation, user mapping, SLA targets; they are
	// valid only on such a source.
	Tickets `yaml:",inline"`

	// HTTP is how to reach the upstream: basic_auth, authorization,
	// oauth2, tls_config, proxy_url, http_headers, follow_redirects, ...
	// Only for the HTTP sources (prometheus, alertmanager).
	HTTP pconfig.HTTPClientConfig `yaml:",inline"`
}

// Service is one catalog entry.
type Service struct {
	// Name is the service's unique name.
	Name string `yaml:"name"`
	// Match holds matcher lines, each read as an Alertmanager route's
	// matchers: line (model.ParseMatchers); all matchers of a line must
	// match, and any one line matching claims the alert.
	Match []string `yaml:"match,omitempty"`
	// DependsOn names the services this one needs.
	DependsOn []string `yaml:"depends_on,omitempty"`
	// Owner is the owning team.
	Owner string `yaml:"owner,omitempty"`
	// Contacts are how to reach the owner (channels, addresses, pagers).
	Contacts []string `yaml:"contacts,omitempty"`
	// Runbook is a URL or a markdown file path (relative to the config).
	Runbook string `yaml:"runbook,omitempty"`
}

// Level is one step of the escalation policy.
type Level struct {
	// Level is the step number; levels ascend through the list.
	Level int `yaml:"level"`
	// Who is told at this level.
	Who string `yaml:"who"`
	// Contact is how to reach them.
	Contact string `yaml:"contact,omitempty"`
	// After is how long after the outage opened this level applies.
	After pmodel.Duration `yaml:"after,omitempty"`
	// MinRole is the lowest operator role allowed to escalate to this level.
	MinRole string `yaml:"min_role,omitempty"`
}

// Defaults applied to every source.
const (
	DefaultInterval = 15 * time.Second
	DefaultTimeout  = 10 * time.Second
)

// DefaultSource returns a Source carrying every default: interval 15s,
// timeout 10s and prometheus/common's default HTTP client settings
// (follow_redirects, enable_http2).
func DefaultSource() Source {
	return Source{
		Interval: pmodel.Duration(DefaultInterval),
		Timeout:  pmodel.Duration(DefaultTimeout),
		HTTP:     pconfig.DefaultHTTPClientConfig,
	}
}

// Default returns an empty configuration with the file-level defaults set
// (outage_threshold critical).
func Default() *Config {
	return &Config{OutageThreshold: "critical"}
}

// UnmarshalYAML applies the source defaults before decoding, as Prometheus
// does for a scrape_config: the inline HTTPClientConfig's own defaults are
// not applied by the decoder for an inline field. A timeout left unset
// becomes min(10s, interval).
func (s *Source) UnmarshalYAML(unmarshal func(any) error) error {
	*s = DefaultSource()
	s.Timeout = 0
	type plain Source
	if err := unmarshal((*plain)(s)); err != nil {
		return err
	}
	if s.Timeout == 0 {
		s.Timeout = pmodel.Duration(min(DefaultTimeout, time.Duration(s.Interval)))
	}
	return nil
}
