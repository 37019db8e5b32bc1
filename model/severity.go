package model

import "strings"

// Severity orders how bad a signal is. The zero value is SevNone.
type Severity int8

const (
	SevNone Severity = iota
	SevInfo
	SevWarning
	SevCritical
)

// ParseSeverity reads a severity label value. Unknown values map to SevNone;
// common spellings (crit, critical, page, error, warn, warning, info, low)
// are recognised case-insensitively.
func ParseSeverity(s string) Severity {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical", "crit", "page", "fatal", "emergency", "high", "p1", "error", "major":
		return SevCritical
	case "warning", "warn", "medium", "minor", "p2", "p3":
		return SevWarning
	case "info", "informational", "low", "notice", "p4", "p5":
		return SevInfo
	}
	return SevNone
}

// String is the short upper-case label shown on screen: CRIT, WARN, INFO or NONE.
func (s Severity) String() string {
	switch s {
	case SevCritical:
		return "CRIT"
	case SevWarning:
		return "WARN"
	case SevInfo:
		return "INFO"
	}
	return "NONE"
}

// Name is the long lower-case form used in config and reports.
func (s Severity) Name() string {
	switch s {
	case SevCritical:
		return "critical"
	case SevWarning:
		return "warning"
	case SevInfo:
		return "info"
	}
	return "none"
}
