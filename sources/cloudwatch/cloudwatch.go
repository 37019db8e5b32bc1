// Package cloudwatch reads AWS CloudWatch alarms (metric and composite) as
// alerts: DescribeAlarms, paginated and filtered by state on the server,
// through the AWS SDK for Go with its default protocol (Smithy RPC v2
// CBOR), the AWS default credential chain per profile and region, and an
// optional role to assume. sitroom only reads: it never changes an alarm.
package cloudwatch

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"sitroom/model"
	"sitroom/model/config"
	"sitroom/sources"
)

// Type is the source type name in the config.
const Type = "cloudwatch"

// KindThrottled marks a fetch that failed because AWS throttled it after
// the retryer gave up; it is the shared kind the chip reads as "throttled".
const KindThrottled = sources.KindThrottled

// Other kinds of failure particular to AWS.
const (
	KindCredentials sources.FetchErrorKind = "credentials" // none found, expired or rejected
	KindDenied      sources.FetchErrorKind = "denied"      // the identity lacks a permission
)

// Options tune a Source. The zero value is production's.
type Options struct {
	// HTTPClient sends the requests; nil means the SDK's default.
	HTTPClient aws.HTTPClient
	// MaxAttempts bounds the attempts of one API call (default 4).
	MaxAttempts int
	// MaxBackoff caps the SDK's delay between attempts (default 20s).
	MaxBackoff time.Duration
	// RetryBudget is the size of the source's retry token bucket, shared by
	// all its calls: a retry costs 5 tokens after throttling and 14 after
	// another failure, a first-attempt success refunds 1 (default 100).
	RetryBudget uint
	// TagTTL is how long an alarm's tags are cached (default 10m).
	TagTTL time.Duration
	// IgnoreLabels are left out of each alert's key (match_ignore_labels).
	IgnoreLabels []string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxBytes caps the body of one reply (default DefaultMaxBytes); a
	// longer reply fails the poll as "reply larger than …".
	MaxBytes int64
}

// Source reads one account's alarms in one region.
//
// Fetch and Identity may be called from several goroutines; the AWS
// configuration is loaded on first use and kept once it loads.
type Source struct {
	name string
	cfg  config.CloudWatch
	opt  Options

	severity []severityRule
	def      model.Severity
	states   []types.StateValue
	retryer  *watchRetryer
	// throttledNow is set when AWS throttled a call since the current
	// Fetch began, so a poll that runs out of time while backing off
	// reads "throttled" rather than "timed out".
	throttledNow atomic.Bool

	mu     sync.Mutex
	awsCfg *aws.Config
	client *cw.Client
	tags   map[string]tagEntry
}

type severityRule struct {
	match []*model.Matcher
	sev   model.Severity
}

type tagEntry struct {
	tags map[string]string
	at   time.Time
}

// New builds a source from a validated config entry. It does no I/O: the
// AWS configuration (profile, credentials) is resolved on the first Fetch,
// so a missing profile shows on the source's chip instead of stopping
// sitroom.
func New(sc config.Source, opt Options) (*Source, error) {
	if sc.Region == "" {
		return nil, fmt.Errorf("source %q: a cloudwatch source needs a region", sc.Name)
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 4
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = retry.DefaultMaxBackoff
	}
	if opt.RetryBudget == 0 {
		opt.RetryBudget = 100
	}
	if opt.TagTTL <= 0 {
		opt.TagTTL = 10 * time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	s := &Source{name: sc.Name, cfg: sc.CloudWatch, opt: opt, def: sc.AlarmSeverity(), tags: map[string]tagEntry{}}
	for i, r := range sc.Severity {
		ms, err := model.ParseMatchers(r.Match)
		if err != nil {
			return nil, fmt.Errorf("source %q: severity[%d]: %w", sc.Name, i, err)
		}
		s.severity = append(s.severity, severityRule{match: ms, sev: model.ParseSeverity(r.Severity)})
	}
	for _, st := range sc.AlarmStates() {
		s.states = append(s.states, types.StateValue(st))
	}
	s.retryer = &watchRetryer{Standard: retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = opt.MaxAttempts
		o.MaxBackoff = opt.MaxBackoff
		o.RateLimiter = ratelimit.NewTokenRateLimit(opt.RetryBudget)
	}), hit: &s.throttledNow}
	return s, nil
}

// watchRetryer is the SDK's standard retryer (one per source: its token
// bucket is the source's retry budget) noting every throttling error and
// never retrying a call the server has answered.
type watchRetryer struct {
	*retry.Standard
	hit *atomic.Bool
}

// IsErrorRetryable notes a throttle and defers to the standard retryer,
// except after a 2xx reply: a call that failed while its reply was being
// read (a connection lost or closed mid-body, which the standard retryer
// takes for a network error) is not sent again, so the server never serves
// a page twice; the poll fails in words and the next poll asks afresh.
func (w *watchRetryer) IsErrorRetryable(err error) bool {
	if throttled(err) {
		w.hit.Store(true)
	}
	if answered(err) {
		return false
	}
	return w.Standard.IsErrorRetryable(err)
}

// Name is the configured source name.
func (s *Source) Name() string { return s.name }

// Type is "cloudwatch".
func (s *Source) Type() string { return Type }

// load resolves the AWS configuration once: region, profile, credentials
// chain (or the static keys the demo sets), the role to assume.
func (s *Source) load(ctx context.Context) (*cw.Client, *aws.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.client, s.awsCfg, nil
	}
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(s.cfg.Region),
		awsconfig.WithRetryer(func() aws.Retryer { return s.retryer }),
		// The SDK logs to stderr by default, which would write over the
		// dashboard; failures reach the operator as Fetch errors instead.
		awsconfig.WithLogger(logging.Nop{}),
		awsconfig.WithClientLogMode(0),
	}
	if s.cfg.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(s.cfg.Profile))
	}
	if k := s.cfg.StaticCredentials; k != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			k.AccessKeyID, string(k.SecretAccessKey), string(k.SessionToken))))
	}
	if s.opt.HTTPClient != nil {
		opts = append(opts, awsconfig.WithHTTPClient(s.opt.HTTPClient))
	}
	opts = append(opts, awsconfig.WithAPIOptions([]func(*middleware.Stack) error{capReplies(s.opt.MaxBytes)}))
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, s.classify(ctx, err)
	}
	ac.Region = s.cfg.Region
	if s.cfg.RoleARN != "" {
		stsc := s.stsClient(ac)
		ac.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsc, s.cfg.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "sitroom"
			if s.cfg.ExternalID != "" {
				o.ExternalID = aws.String(s.cfg.ExternalID)
			}
		}))
	}
	s.awsCfg = &ac
	s.client = cw.NewFromConfig(ac, func(o *cw.Options) {
		if s.cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.cfg.Endpoint)
		}
		o.Retryer = s.retryer
		// The SDK has resolved its HTTP client (timeouts of the defaults
		// mode) by now; see ownBodies.
		o.HTTPClient = ownBodies(o.HTTPClient)
	})
	return s.client, s.awsCfg, nil
}

func (s *Source) stsClient(ac aws.Config) *sts.Client {
	return sts.NewFromConfig(ac, func(o *sts.Options) {
		if s.cfg.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(s.cfg.STSEndpoint)
		}
		o.Retryer = s.retryer
		o.HTTPClient = ownBodies(o.HTTPClient)
	})
}

// Identity is who the source's credentials resolve to.
type Identity struct {
	Account string
	ARN     string
	UserID  string
}

// Identity asks STS (GetCallerIdentity) who the source's credentials
// belong to, after assuming role_arn if set. Errors are *sources.FetchError
// in words, never with a secret.
func (s *Source) Identity(ctx context.Context) (Identity, error) {
	_, ac, err := s.load(ctx)
	if err != nil {
		return Identity{}, err
	}
	out, err := s.stsClient(*ac).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, s.classify(ctx, err)
	}
	return Identity{
		Account: sources.Sanitize(aws.ToString(out.Account), 64),
		ARN:     sources.Sanitize(aws.ToString(out.Arn), 256),
		UserID:  sources.Sanitize(aws.ToString(out.UserId), 128),
	}, nil
}

// Fetch returns the alarms in the configured states as alerts: for each
// state one paginated DescribeAlarms series (metric and composite alarms,
// 100 a page), then the tags named in tag_labels. It honours ctx.
func (s *Source) Fetch(ctx context.Context) ([]model.Alert, error) {
	s.throttledNow.Store(false)
	client, _, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	m := newMapper(s)
	var alerts []model.Alert
	for _, st := range s.states {
		p := cw.NewDescribeAlarmsPaginator(client, &cw.DescribeAlarmsInput{
			AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm, types.AlarmTypeCompositeAlarm},
			StateValue: st,
			MaxRecords: aws.Int32(100),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, s.classify(ctx, err)
			}
			for i := range out.MetricAlarms {
				alerts = append(alerts, m.metric(&out.MetricAlarms[i]))
			}
			for i := range out.CompositeAlarms {
				alerts = append(alerts, m.composite(&out.CompositeAlarms[i]))
			}
		}
	}
	if len(s.cfg.TagLabels) > 0 {
		if err := s.addTags(ctx, client, alerts, m); err != nil {
			return nil, err
		}
	}
	return alerts, nil
}

// addTags copies the configured tags into the alerts' labels, reading each
// alarm's tags at most once per TagTTL, and recomputes their keys.
func (s *Source) addTags(ctx context.Context, client *cw.Client, alerts []model.Alert, m *mapper) error {
	now := s.opt.Now()
	for i := range alerts {
		a := &alerts[i]
		arn := a.Annotations.Get("alarm_arn")
		if arn == "" {
			continue
		}
		s.mu.Lock()
		e, ok := s.tags[arn]
		s.mu.Unlock()
		if !ok || now.Sub(e.at) > s.opt.TagTTL {
			out, err := client.ListTagsForResource(ctx, &cw.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
			if err != nil {
				return s.classify(ctx, err)
			}
			e = tagEntry{tags: map[string]string{}, at: now}
			for _, t := range out.Tags {
				e.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			s.mu.Lock()
			s.tags[arn] = e
			s.mu.Unlock()
		}
		changed := false
		labels := a.Labels.Map()
		for _, k := range s.cfg.TagLabels {
			if v, ok := e.tags[k]; ok {
				labels["tag_"+labelName(k)] = v
				changed = true
			}
		}
		if changed {
			// Severity rules may match tags.
			labels["severity"] = s.severityOf(labels).Name()
			a.Labels = model.LabelsFromMap(labels)
			a.Key = sources.LabelsKey(a.Labels, s.opt.IgnoreLabels)
		}
	}
	// Forget the tags of alarms gone for good.
	s.mu.Lock()
	for arn, e := range s.tags {
		if now.Sub(e.at) > 6*s.opt.TagTTL {
			delete(s.tags, arn)
		}
	}
	s.mu.Unlock()
	return nil
}

func (s *Source) severityOf(m map[string]string) model.Severity {
	labels := model.LabelsFromMap(m)
	for _, r := range s.severity {
		if model.MatchAll(r.match, labels) {
			return r.sev
		}
	}
	return s.def
}

// mapper turns SDK alarm shapes into alerts.
type mapper struct {
	s *Source
}

func newMapper(s *Source) *mapper { return &mapper{s: s} }

// arnParts returns the partition, region and account of an alarm ARN
// (arn:partition:cloudwatch:region:account:alarm:name).
func arnParts(arn string) (partition, region, account string) {
	p := strings.SplitN(arn, ":", 7)
	if len(p) < 7 || p[0] != "arn" {
		return "", "", ""
	}
	return p[1], p[3], p[4]
}

func (m *mapper) common(kind, name, arn, desc, reason string, state types.StateValue, updated, transitioned *time.Time) draft {
	s := m.s
	partition, region, account := arnParts(arn)
	if region == "" {
		region = s.cfg.Region
	}
	name = sources.Sanitize(name, 255)
	labels := make(map[string]string, 12)
	labels["alertname"], labels["alarm_name"], labels["alarm_type"], labels["region"] = name, name, kind, region
	if account != "" {
		labels["account"] = account
	}
	ann := make(map[string]string, 10)
	put := func(k, v string) {
		if v != "" {
			ann[k] = v
		}
	}
	put("description", desc)
	put("state_reason", reason)
	put("alarm_arn", arn)
	put("alarm_state", string(state))
	if desc != "" {
		put("summary", firstLine(desc))
	} else {
		put("summary", firstLine(reason))
	}
	if updated != nil {
		put("state_updated", updated.UTC().Format(time.RFC3339))
	}
	a := draft{labels: labels, ann: ann}
	a.State = model.StateFiring
	if state == types.StateValueInsufficientData {
		a.State = model.StatePending
	}
	switch {
	case transitioned != nil:
		a.StartsAt = model.StampOf(transitioned.UTC())
	case updated != nil:
		a.StartsAt = model.StampOf(updated.UTC())
	}
	a.GeneratorURL = consoleURL(partition, region, name)
	return a
}

// draft is an alert being mapped, its labels and annotations still maps.
type draft struct {
	model.Alert
	labels, ann map[string]string
}

func (m *mapper) finish(a *draft) model.Alert {
	a.labels["severity"] = m.s.severityOf(a.labels).Name()
	a.Labels, a.Annotations = model.LabelsFromMap(a.labels), model.LabelsFromMap(a.ann)
	a.Key = sources.LabelsKey(a.Labels, m.s.opt.IgnoreLabels)
	return a.Alert
}

func (m *mapper) metric(x *types.MetricAlarm) model.Alert {
	a := m.common("metric", aws.ToString(x.AlarmName), aws.ToString(x.AlarmArn), aws.ToString(x.AlarmDescription),
		aws.ToString(x.StateReason), x.StateValue, x.StateUpdatedTimestamp, x.StateTransitionedTimestamp)
	ns, metric, dims := aws.ToString(x.Namespace), aws.ToString(x.MetricName), x.Dimensions
	stat := string(x.Statistic)
	if stat == "" {
		stat = aws.ToString(x.ExtendedStatistic)
	}
	if metric == "" && len(x.Metrics) > 0 {
		// Metric math or anomaly band: the query whose data the alarm
		// evaluates names the metric, else the first one that has one.
		var pick *types.MetricStat
		for i := range x.Metrics {
			q := &x.Metrics[i]
			if q.MetricStat == nil || q.MetricStat.Metric == nil {
				continue
			}
			if pick == nil || aws.ToBool(q.ReturnData) {
				pick = q.MetricStat
			}
		}
		if pick != nil {
			ns, metric, dims = aws.ToString(pick.Metric.Namespace), aws.ToString(pick.Metric.MetricName), pick.Metric.Dimensions
			if stat == "" {
				stat = aws.ToString(pick.Stat)
			}
		}
		for _, q := range x.Metrics {
			if aws.ToBool(q.ReturnData) && q.Expression != nil {
				a.ann["expression"] = sources.Sanitize(aws.ToString(q.Expression), 512)
			}
		}
	}
	if ns != "" {
		a.labels["namespace"] = ns
	}
	if metric != "" {
		a.labels["metric_name"] = metric
	}
	var dimText []string
	for _, d := range dims {
		n, v := aws.ToString(d.Name), aws.ToString(d.Value)
		a.labels["dimension_"+labelName(n)] = v
		dimText = append(dimText, n+"="+v)
	}
	if len(dimText) > 0 {
		a.ann["dimensions"] = strings.Join(dimText, ", ")
	}
	if th := thresholdText(x, stat); th != "" {
		a.ann["threshold"] = th
	}
	if x.EvaluationState != "" {
		a.ann["evaluation_state"] = string(x.EvaluationState)
	}
	return m.finish(&a)
}

var comparison = map[types.ComparisonOperator]string{
	types.ComparisonOperatorGreaterThanOrEqualToThreshold: ">=",
	types.ComparisonOperatorGreaterThanThreshold:          ">",
	types.ComparisonOperatorLessThanThreshold:             "<",
	types.ComparisonOperatorLessThanOrEqualToThreshold:    "<=",
}

// thresholdText renders e.g. "> 80 (Average over 60s, 3 of 3 periods)".
func thresholdText(x *types.MetricAlarm, stat string) string {
	op := comparison[x.ComparisonOperator]
	var b strings.Builder
	switch {
	case x.Threshold != nil && op != "":
		b.WriteString(op + " " + strconv.FormatFloat(*x.Threshold, 'f', -1, 64))
	case x.Threshold != nil:
		b.WriteString(string(x.ComparisonOperator) + " " + strconv.FormatFloat(*x.Threshold, 'f', -1, 64))
	case x.ThresholdMetricId != nil:
		b.WriteString(string(x.ComparisonOperator) + " band " + aws.ToString(x.ThresholdMetricId))
	default:
		return ""
	}
	var detail []string
	if stat != "" && x.Period != nil {
		detail = append(detail, fmt.Sprintf("%s over %ds", stat, *x.Period))
	} else if stat != "" {
		detail = append(detail, stat)
	}
	if x.EvaluationPeriods != nil {
		n := *x.EvaluationPeriods
		mm := n
		if x.DatapointsToAlarm != nil {
			mm = *x.DatapointsToAlarm
		}
		detail = append(detail, fmt.Sprintf("%d of %s", mm, model.Plural(int(n), "period", "periods")))
	}
	if len(detail) > 0 {
		b.WriteString(" (" + strings.Join(detail, ", ") + ")")
	}
	if x.Unit != "" && x.Unit != types.StandardUnitNone {
		b.WriteString(" " + string(x.Unit))
	}
	return b.String()
}

func (m *mapper) composite(x *types.CompositeAlarm) model.Alert {
	a := m.common("composite", aws.ToString(x.AlarmName), aws.ToString(x.AlarmArn), aws.ToString(x.AlarmDescription),
		aws.ToString(x.StateReason), x.StateValue, x.StateUpdatedTimestamp, x.StateTransitionedTimestamp)
	if r := aws.ToString(x.AlarmRule); r != "" {
		a.ann["alarm_rule"] = sources.Sanitize(r, 1024)
	}
	if x.ActionsSuppressedBy != "" {
		// Its actions are held back (by a suppressor alarm or its wait or
		// extension period): shown like a silenced alert.
		a.State = model.StateSuppressed
		a.ann["actions_suppressed_by"] = string(x.ActionsSuppressedBy)
		if r := aws.ToString(x.ActionsSuppressedReason); r != "" {
			a.ann["actions_suppressed_reason"] = r
		}
	}
	return m.finish(&a)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// labelName makes a dimension or tag name a valid Prometheus label name
// suffix: characters outside [A-Za-z0-9_] become _.
func labelName(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// consoleURL links to the alarm in the AWS console.
func consoleURL(partition, region, name string) string {
	host := "console.aws.amazon.com"
	switch partition {
	case "aws-cn":
		host = "console.amazonaws.cn"
	case "aws-us-gov":
		host = "console.amazonaws-us-gov.com"
	}
	return "https://" + region + "." + host + "/cloudwatch/home?region=" + url.QueryEscape(region) +
		"#alarmsV2:alarm/" + url.PathEscape(name)
}
