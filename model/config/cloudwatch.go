package config

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"

	pconfig "github.com/prometheus/common/config"

	"sitroom/model"
)

// CloudWatch is the part of a Source that only a `type: cloudwatch`
// source uses. Credentials come from the AWS default chain (environment,
// shared config and credentials files, SSO, web identity, container and
// instance roles), exactly as the AWS CLI resolves them for the same
// profile; the config file never holds AWS keys.
type CloudWatch struct {
	// Region is the AWS region whose alarms are read, e.g. eu-west-1.
	// Required for a cloudwatch source.
	Region string `yaml:"region,omitempty"`
	// Profile names a profile of the shared AWS config and credentials
	// files; empty means AWS_PROFILE or "default", as for the AWS CLI.
	Profile string `yaml:"profile,omitempty"`
	// RoleARN, when set, is assumed (STS AssumeRole) with the profile's
	// credentials, e.g. to read another account's alarms.
	RoleARN string `yaml:"role_arn,omitempty"`
	// ExternalID is passed to AssumeRole when the role's trust policy asks
	// for one; only with role_arn.
	ExternalID string `yaml:"external_id,omitempty"`
	// Endpoint overrides the CloudWatch endpoint (an absolute http(s) URL,
	// e.g. a VPC interface endpoint); empty means the region's default.
	Endpoint string `yaml:"endpoint,omitempty"`
	// STSEndpoint overrides the STS endpoint used for role_arn and for
	// `sitroom check`'s identity lookup; empty means the region's default.
	STSEndpoint string `yaml:"sts_endpoint,omitempty"`
	// States are the alarm states shown as alerts: ALARM (default) and
	// optionally INSUFFICIENT_DATA (shown as pending).
	States []string `yaml:"states,omitempty"`
	// Severity maps alarms to severities: the first rule whose matcher
	// matches the alarm's labels wins.
	Severity []SeverityRule `yaml:"severity,omitempty"`
	// DefaultSeverity applies when no rule matches; default warning.
	DefaultSeverity string `yaml:"default_severity,omitempty"`
	// TagLabels names resource tags copied into each alarm's labels as
	// tag_<Key> (read with ListTagsForResource, cached for 10 minutes).
	// Empty means tags are not read.
	TagLabels []string `yaml:"tag_labels,omitempty"`

	// StaticCredentials replaces the AWS credential chain. It is never
	// read from a file: only code sets it (the --demo test server).
	StaticCredentials *AWSKeys `yaml:"-"`
}

// AWSKeys is a static AWS access key pair.
type AWSKeys struct {
	AccessKeyID     string
	SecretAccessKey pconfig.Secret
	SessionToken    pconfig.Secret
}

// SeverityRule maps the alarms its matcher selects to a severity.
type SeverityRule struct {
	// Match is a matcher line (as an Alertmanager route's matchers:, see
	// model.ParseMatchers) over the alarm's labels
	// (alarm_name, alarm_type, namespace, metric_name, dimension_<Name>,
	// region, account, tag_<Key>), e.g. 'namespace="AWS/RDS"'.
	Match string `yaml:"match"`
	// Severity is critical, warning or info.
	Severity string `yaml:"severity"`
}

// Defaults of a cloudwatch source.
var (
	// DefaultAlarmStates are the alarm states shown when states is unset.
	DefaultAlarmStates = []string{"ALARM"}
	// DefaultAlarmSeverity applies when no severity rule matches.
	DefaultAlarmSeverity = "warning"
)

// AlarmStates returns the configured alarm states, or DefaultAlarmStates.
func (c *CloudWatch) AlarmStates() []string {
	if len(c.States) == 0 {
		return append([]string(nil), DefaultAlarmStates...)
	}
	return append([]string(nil), c.States...)
}

// AlarmSeverity returns the configured default severity, or
// DefaultAlarmSeverity.
func (c *CloudWatch) AlarmSeverity() model.Severity {
	if s := model.ParseSeverity(c.DefaultSeverity); s != model.SevNone {
		return s
	}
	return model.ParseSeverity(DefaultAlarmSeverity)
}

// httpTypes are the source types that speak HTTP through
// prometheus/common's client and take a url.
var httpTypes = []string{"prometheus", "alertmanager", TypeRT, TypeJira, TypeServiceNow}

var (
	regionRe     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	roleARNRe    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	externalIDRe = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	profileRe    = regexp.MustCompile(`^[\w+=,.@:/-]{1,128}$`)
	alarmStates  = []string{"ALARM", "INSUFFICIENT_DATA"}
)

// sourceKind checks the fields that belong to one kind of source only.
func (v *validator) sourceKind(p string, s *Source) {
	switch {
	case s.Type == "cloudwatch":
		v.cloudwatch(p, s)
		if s.URL != "" {
			v.errorf(p+".url", "not used by cloudwatch sources; endpoint overrides the AWS endpoint")
		}
		if !reflect.DeepEqual(s.HTTP, pconfig.DefaultHTTPClientConfig) {
			v.errorf(p, "HTTP client settings (basic_auth, authorization, oauth2, tls_config, proxy_url, http_headers, ...) apply only to %s sources", oneOf(httpTypes))
		}
	case contains(httpTypes, s.Type):
		if msg := checkURL(s.URL); msg != "" {
			v.errorf(p+".url", "%s", msg)
		}
		cw := s.CloudWatch
		for _, f := range []struct {
			key string
			set bool
		}{
			{"region", cw.Region != ""}, {"profile", cw.Profile != ""}, {"role_arn", cw.RoleARN != ""},
			{"external_id", cw.ExternalID != ""}, {"endpoint", cw.Endpoint != ""}, {"sts_endpoint", cw.STSEndpoint != ""},
			{"states", cw.States != nil}, {"severity", cw.Severity != nil}, {"default_severity", cw.DefaultSeverity != ""},
			{"tag_labels", cw.TagLabels != nil},
		} {
			if f.set {
				v.errorf(p+"."+f.key, "only for cloudwatch sources")
			}
		}
		if cw.StaticCredentials != nil {
			v.errorf(p, "static AWS credentials are only for cloudwatch sources")
		}
	}
}

func (v *validator) cloudwatch(p string, s *Source) {
	cw := &s.CloudWatch
	switch {
	case cw.Region == "":
		// A missing key has no line of its own: point at the source.
		v.errs = append(v.errs, &fieldError{line: v.c.lines[p], path: p + ".region",
			msg: "a cloudwatch source needs a region (e.g. eu-west-1)"})
	case !regionRe.MatchString(cw.Region):
		v.errorf(p+".region", "%q is not an AWS region name (e.g. eu-west-1)", clip(cw.Region))
	}
	if cw.Profile != "" && !profileRe.MatchString(cw.Profile) {
		v.errorf(p+".profile", "%q is not a valid profile name", clip(cw.Profile))
	}
	if cw.RoleARN != "" && !roleARNRe.MatchString(cw.RoleARN) {
		v.errorf(p+".role_arn", "want an IAM role ARN like arn:aws:iam::123456789012:role/noc-read")
	}
	if cw.ExternalID != "" {
		if cw.RoleARN == "" {
			v.errorf(p+".external_id", "only with role_arn")
		}
		if len(cw.ExternalID) < 2 || len(cw.ExternalID) > 1224 || !externalIDRe.MatchString(cw.ExternalID) {
			v.errorf(p+".external_id", "2 to 1224 characters of letters, digits and +=,.@:/-")
		}
	}
	for _, e := range []struct{ key, val string }{{"endpoint", cw.Endpoint}, {"sts_endpoint", cw.STSEndpoint}} {
		if e.val == "" {
			continue
		}
		if msg := checkURL(e.val); msg != "" {
			v.errorf(p+"."+e.key, "%s", strings.Replace(msg, "a source needs a url", "empty", 1))
		}
	}
	seen := map[string]bool{}
	for i, st := range cw.States {
		ip := p + ".states[" + strconv.Itoa(i) + "]"
		switch {
		case !contains(alarmStates, st):
			v.errorf(ip, "unknown alarm state %q (want %s)", clip(st), oneOf(alarmStates))
		case seen[st]:
			v.errorf(ip, "%s is listed twice", st)
		}
		seen[st] = true
	}
	if cw.States != nil && len(cw.States) == 0 {
		v.errorf(p+".states", "list at least one state, or leave it out for [ALARM]")
	}
	for i, r := range cw.Severity {
		ip := p + ".severity[" + strconv.Itoa(i) + "]"
		if strings.TrimSpace(r.Match) == "" {
			v.errorf(ip+".match", "a severity rule needs a matcher")
		} else if _, err := model.ParseMatchers(r.Match); err != nil {
			v.errorf(ip+".match", "%v", err)
		}
		if !contains(thresholds, r.Severity) {
			v.errorf(ip+".severity", "unknown severity %q (want %s)", clip(r.Severity), oneOf(thresholds))
		}
	}
	if cw.DefaultSeverity != "" && !contains(thresholds, cw.DefaultSeverity) {
		v.errorf(p+".default_severity", "unknown severity %q (want %s)", clip(cw.DefaultSeverity), oneOf(thresholds))
	}
	tags := map[string]bool{}
	for i, k := range cw.TagLabels {
		ip := p + ".tag_labels[" + strconv.Itoa(i) + "]"
		switch {
		case strings.TrimSpace(k) == "":
			v.errorf(ip, "empty tag key")
		case len(k) > 128 || hasControl(k):
			v.errorf(ip, "not a valid tag key")
		case tags[k]:
			v.errorf(ip, "tag %q is listed twice", clip(k))
		}
		tags[k] = true
	}
	if k := cw.StaticCredentials; k != nil && (k.AccessKeyID == "" || k.SecretAccessKey == "") {
		v.errorf(p, "static AWS credentials need an access key id and a secret access key")
	}
}
