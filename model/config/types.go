// Package config is sitroom's YAML configuration: typed, strictly decoded
// (unknown keys are errors naming their key path), defaulted and validated.
package config

import (
	pconfig "github.com/prometheus/common/config"
	pmodel "github.com/prometheus/common/model"
)

// Config is the whole configuration file.
type Config struct {
	// OperatorRoles maps OS users (and groups, prefixed with @) to roles.
	OperatorRoles map[string]string `yaml:"operator_roles,omitempty"`
	// OutageThreshold is the lowest severity that makes a firing alert an
	// outage: critical (default), warning or info.
	OutageThreshold string    `yaml:"outage_threshold,omitempty"`
	Sources         []Source  `yaml:"sources"`
	Services        []Service `yaml:"services,omitempty"`
	Escalation      []Level   `yaml:"escalation,omitempty"`
}

// Source is one upstream to poll. HTTP sources take prometheus/common's
// HTTPClientConfig fields inline, exactly as a Prometheus scrape_config does.
type Source struct {
	Name     string          `yaml:"name"`
	Type     string          `yaml:"type"` // prometheus | alertmanager
	URL      string          `yaml:"url,omitempty"`
	Interval pmodel.Duration `yaml:"interval,omitempty"` // default 15s
	Timeout  pmodel.Duration `yaml:"timeout,omitempty"`  // per request; default 10s, at most interval
	// MatchIgnoreLabels are dropped before an alert's identity is computed,
	// so the same alert seen through Prometheus and the Alertmanager it
	// feeds (which adds external labels) is one row.
	MatchIgnoreLabels []string `yaml:"match_ignore_labels,omitempty"`

	HTTP pconfig.HTTPClientConfig `yaml:",inline"`
}

// Service is one catalog entry.
type Service struct {
	Name      string   `yaml:"name"`
	Match     []string `yaml:"match,omitempty"` // Prometheus matcher expressions; any one matching claims the alert
	DependsOn []string `yaml:"depends_on,omitempty"`
	Owner     string   `yaml:"owner,omitempty"`
	Contacts  []string `yaml:"contacts,omitempty"`
	Runbook   string   `yaml:"runbook,omitempty"`
}

// Level is one step of the escalation policy.
type Level struct {
	Level   int             `yaml:"level"`
	Who     string          `yaml:"who"`
	Contact string          `yaml:"contact,omitempty"`
	After   pmodel.Duration `yaml:"after,omitempty"`
	MinRole string          `yaml:"min_role,omitempty"`
}
