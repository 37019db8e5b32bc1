package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"sitroom/model"
)

// The one list of source types this build knows, of operator roles (lowest
// first) and of outage thresholds.
var (
	sourceTypes = []string{"prometheus", "alertmanager", "cloudwatch", TypeRT, TypeJira, TypeServiceNow}
	roles       = []string{"viewer", "tier1", "tier2", "lead"}
	thresholds  = []string{"critical", "warning", "info"}
)

// SourceTypes lists the source types this build knows.
func SourceTypes() []string { return append([]string(nil), sourceTypes...) }

// Roles lists the operator roles, lowest first.
func Roles() []string { return append([]string(nil), roles...) }

// KnownSourceType reports whether t is one of SourceTypes.
func KnownSourceType(t string) bool { return contains(sourceTypes, t) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// oneOf renders a list as "a, b or c".
func oneOf(list []string) string {
	switch len(list) {
	case 0:
		return ""
	case 1:
		return list[0]
	}
	return strings.Join(list[:len(list)-1], ", ") + " or " + list[len(list)-1]
}

// Validate checks the whole configuration and returns every problem found
// (errors.Join), each naming its key path (and line, for a parsed file).
// It normalises the HTTP settings as prometheus/common does (bearer_token
// becomes authorization), so call it once before use. No secret appears in
// its errors.
func (c *Config) Validate() error {
	v := &validator{c: c}
	v.sources()
	v.services()
	v.cycles()
	v.roles()
	v.escalation()
	v.webhooks()
	v.history()
	v.console()
	v.team()
	v.notify()
	if c.OutageThreshold != "" && !contains(thresholds, c.OutageThreshold) {
		v.errorf("outage_threshold", "unknown severity %q (want %s)", clip(c.OutageThreshold), oneOf(thresholds))
	}
	if len(v.errs) == 0 {
		return nil
	}
	return scrub(errors.Join(v.errs...), collectSecrets(c))
}

type validator struct {
	c    *Config
	errs []error
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, &fieldError{line: v.c.lines[path], path: path, msg: fmt.Sprintf(format, args...)})
}

// name checks the name of entry i of a list (p is its key path, kind what
// it is): present, printable and unique among seen, which it adds to.
func (v *validator) name(p, kind, list, name string, i int, seen map[string]int) {
	switch {
	case strings.TrimSpace(name) == "":
		v.errorf(p+".name", "a %s needs a name", kind)
	case hasControl(name):
		v.errorf(p+".name", "control characters are not allowed in a name")
	default:
		if j, dup := seen[name]; dup {
			v.errorf(p+".name", "duplicate %s name %q (also %s[%d])", kind, name, list, j)
		} else {
			seen[name] = i
		}
	}
}

func (v *validator) sources() {
	seen := map[string]int{}
	for i := range v.c.Sources {
		s := &v.c.Sources[i]
		p := "sources[" + strconv.Itoa(i) + "]"
		v.name(p, "source", "sources", s.Name, i, seen)
		switch {
		case s.Type == "":
			v.errorf(p+".type", "a source needs a type (%s)", oneOf(sourceTypes))
		case !KnownSourceType(s.Type):
			v.errorf(p+".type", "unknown source type %q (want %s)", clip(s.Type), oneOf(sourceTypes))
		}
		v.sourceKind(p, s)
		v.tickets(p, s)
		if s.Interval <= 0 {
			v.errorf(p+".interval", "must be more than 0s")
		}
		if s.Timeout < 0 {
			v.errorf(p+".timeout", "must not be negative")
		}
		if s.Interval > 0 && s.Timeout > s.Interval {
			v.errorf(p+".timeout", "%s is longer than the interval %s", s.Timeout, s.Interval)
		}
		for j, l := range s.MatchIgnoreLabels {
			if l == "" {
				v.errorf(p+".match_ignore_labels["+strconv.Itoa(j)+"]", "empty label name")
			}
		}
		if err := s.HTTP.Validate(); err != nil && s.Type != "cloudwatch" {
			v.errorf(p, "%v", err)
		}
	}
}

// checkURL explains what is wrong with a source URL, or returns "".
func checkURL(raw string) string {
	if raw == "" {
		return "a source needs a url"
	}
	if !strings.Contains(raw, "://") {
		return "want an absolute http:// or https:// URL"
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "not a valid URL: " + err.Error()
	}
	if u.User != nil {
		return "the URL holds credentials; put credentials in basic_auth, not the URL"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return "want an absolute http:// or https:// URL"
		}
		return fmt.Sprintf("scheme %q is not supported (want http or https)", clip(u.Scheme))
	}
	if u.Host == "" {
		return "the URL has no host"
	}
	if u.Fragment != "" {
		return "the URL must not have a #fragment"
	}
	return ""
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u202e' || r == '\u202d' {
			return true
		}
	}
	return false
}

func (v *validator) services() {
	names := map[string]int{}
	for i, s := range v.c.Services {
		p := "services[" + strconv.Itoa(i) + "]"
		v.name(p, "service", "services", s.Name, i, names)
		for j, m := range s.Match {
			if _, err := model.ParseMatchers(m); err != nil {
				v.errorf(p+".match["+strconv.Itoa(j)+"]", "%v", err)
			}
		}
	}
	for i, s := range v.c.Services {
		for j, d := range s.DependsOn {
			p := "services[" + strconv.Itoa(i) + "].depends_on[" + strconv.Itoa(j) + "]"
			switch {
			case d == s.Name:
				v.errorf(p, "service %q cannot depend on itself", d)
			case !hasKey(names, d):
				v.errorf(p, "unknown service %q", clip(d))
			}
		}
	}
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }

// cycles reports every dependency cycle among the services, at the
// depends_on entry that closes it: `services[2].depends_on[0]: cycle: a →
// b → c → a`. Self-dependencies and unknown names are reported on their
// own by services().
func (v *validator) cycles() {
	graph := make([]*model.Service, 0, len(v.c.Services))
	for _, s := range v.c.Services {
		graph = append(graph, &model.Service{Name: s.Name, DependsOn: s.DependsOn})
	}
	for _, cyc := range model.NewCatalog(graph).Cycles() {
		if len(cyc) < 3 { // a → a: reported as a self-dependency
			continue
		}
		from, to := cyc[len(cyc)-2], cyc[len(cyc)-1]
		p := "services"
		for i, s := range v.c.Services {
			if s.Name != from {
				continue
			}
			for j, d := range s.DependsOn {
				if d == to {
					p = "services[" + strconv.Itoa(i) + "].depends_on[" + strconv.Itoa(j) + "]"
					break
				}
			}
			break
		}
		names := make([]string, len(cyc))
		for i, n := range cyc {
			names[i] = clip(n)
			if hasControl(n) {
				names[i] = strconv.Quote(names[i])
			}
		}
		v.errorf(p, "cycle: %s", strings.Join(names, " → "))
	}
}

func (v *validator) roles() {
	for who, role := range v.c.OperatorRoles {
		p := mapKey("operator_roles", who)
		if strings.TrimPrefix(who, "@") == "" {
			v.errorf(p, "empty user or group name")
		}
		if !contains(roles, role) {
			v.errorf(p, "unknown role %q (want %s)", clip(role), oneOf(roles))
		}
	}
}

func (v *validator) escalation() {
	for i, l := range v.c.Escalation {
		p := "escalation[" + strconv.Itoa(i) + "]"
		if l.Level < 1 {
			v.errorf(p+".level", "levels start at 1")
		}
		if i > 0 {
			prev := v.c.Escalation[i-1]
			if l.Level <= prev.Level {
				v.errorf(p+".level", "level %d must be above the level before it (%d)", l.Level, prev.Level)
			}
			if l.After < prev.After {
				v.errorf(p+".after", "%s is earlier than the level before it (%s)", l.After, prev.After)
			}
		}
		if strings.TrimSpace(l.Who) == "" {
			v.errorf(p+".who", "say who is told at this level")
		}
		if l.After < 0 {
			v.errorf(p+".after", "must not be negative")
		}
		if l.MinRole != "" && !contains(roles, l.MinRole) {
			v.errorf(p+".min_role", "unknown role %q (want %s)", clip(l.MinRole), oneOf(roles))
		}
	}
}

// Threshold is the lowest severity that makes a firing alert an outage.
func (c *Config) Threshold() model.Severity {
	if s := model.ParseSeverity(c.OutageThreshold); s != model.SevNone {
		return s
	}
	return model.SevCritical
}

// PipelineOutagesOn reports whether failing alerting rules the catalog
// maps to services make outages of the alerting pipeline: the
// pipeline_outages key, true unless set false.
func (c *Config) PipelineOutagesOn() bool {
	return c.PipelineOutages == nil || *c.PipelineOutages
}

// Catalog builds the service catalog. Call it after Validate: a matcher
// that does not parse is skipped. A runbook given as a relative file path
// resolves against the config file's directory; URLs are kept as written.
func (c *Config) Catalog() *model.Catalog {
	services := make([]*model.Service, 0, len(c.Services))
	for _, s := range c.Services {
		ms := &model.Service{
			Name:      s.Name,
			DependsOn: append([]string(nil), s.DependsOn...),
			Owner:     s.Owner,
			Contacts:  append([]string(nil), s.Contacts...),
			Runbook:   s.Runbook,
		}
		for _, m := range s.Match {
			if alt, err := model.ParseMatchers(m); err == nil {
				ms.Match = append(ms.Match, alt)
			}
		}
		if r := s.Runbook; r != "" && c.baseDir != "" && !strings.Contains(r, "://") && !filepath.IsAbs(r) {
			ms.Runbook = filepath.Join(c.baseDir, r)
		}
		services = append(services, ms)
	}
	return model.NewCatalog(services)
}
