package prometheus

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	yaml "go.yaml.in/yaml/v3"

	"sitroom/model"
	"sitroom/sources"
)

// ConfigPath is the configuration the server runs, as YAML. Of it the
// source reads global.external_labels and alerting.alert_relabel_configs:
// what Prometheus adds to and changes in the alerts it sends to
// Alertmanagers, and does not show in its own /api/v1/alerts.
const ConfigPath = "/api/v1/status/config"

// ConfigEvery is how often the config is read again, so that a reloaded
// config's external labels are learned.
const ConfigEvery = RulesEvery

// External is what a source learned from its server's config: how the
// alerts it shows are labelled as the server's Alertmanagers receive them.
type External struct {
	// Labels are the server's external labels (nil when it has none or
	// they are not known). Each is added to an alert that lacks it.
	Labels map[string]string
	// Relabel is the number of alert_relabel_configs applied after them.
	Relabel int
	// Unknown says why the labels are not known ("" when they are): the
	// server does not serve its config (HTTP 404: Thanos Ruler, vmalert),
	// refuses it (HTTP 401, 403: an auth proxy), or it could not be read.
	Unknown string
	// Status is the HTTP status of a server that does not serve its
	// config (404) or refuses it (401, 403); 0 otherwise.
	Status int
	// Warnings are what of the config is not applied (an unsupported
	// relabel action, a regex Go cannot compile, per-Alertmanager alert
	// relabelling): the same alert from an Alertmanager may then show as
	// a row of its own.
	Warnings []string
}

// external labels alerts as Prometheus does before sending them to an
// Alertmanager: each external label the alert lacks is added, then the
// alert_relabel_configs are applied in order. It is never modified once
// made, and safe for concurrent use.
type external struct {
	names, values []string // the external labels, sorted by name
	relabel       []relabelRule
}

// apply labels the decoded labels m in place and reports whether it
// changed them.
func (e *external) apply(m map[string]string) bool {
	changed := false
	for i, k := range e.names {
		if m[k] == "" { // Prometheus: a label with an empty value is no label
			m[k] = e.values[i]
			changed = true
		}
	}
	for i := range e.relabel {
		if e.relabel[i].apply(m) {
			changed = true
		}
	}
	return changed
}

// relabelRule is one alert_relabel_config, as Prometheus applies it.
type relabelRule struct {
	action       string
	sourceLabels []string
	separator    string
	re           *regexp.Regexp // anchored at both ends
	modulus      uint64
	target       string
	replacement  string
}

// relabelYAML is a relabel_config as the server serves it: Prometheus
// writes its config out with every default filled in and every empty
// value left out, so a separator or replacement that is not there is
// empty (replacement: "" deletes the target label).
type relabelYAML struct {
	SourceLabels []string `yaml:"source_labels"`
	Separator    string   `yaml:"separator"`
	Regex        *string  `yaml:"regex"`
	Modulus      uint64   `yaml:"modulus"`
	TargetLabel  string   `yaml:"target_label"`
	Replacement  string   `yaml:"replacement"`
	Action       string   `yaml:"action"`
}

// newRelabelRule makes the rule of c, or says why it cannot be applied.
func newRelabelRule(c relabelYAML) (relabelRule, error) {
	r := relabelRule{action: strings.ToLower(c.Action), sourceLabels: c.SourceLabels, separator: c.Separator,
		modulus: c.Modulus, target: c.TargetLabel, replacement: c.Replacement}
	if r.action == "" {
		r.action = "replace"
	}
	expr := "(.*)"
	if c.Regex != nil {
		expr = *c.Regex
	}
	switch r.action {
	case "replace", "keep", "drop", "keepequal", "dropequal", "hashmod", "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase":
	default:
		return r, fmt.Errorf("action %q is not applied", sources.Sanitize(r.action, 40))
	}
	if r.action == "hashmod" && r.modulus == 0 {
		return r, errors.New("hashmod without a modulus is not applied")
	}
	re, err := regexp.Compile("^(?:" + expr + ")$")
	if err != nil {
		return r, fmt.Errorf("regex %q is not applied: %s", sources.Sanitize(expr, 60), sources.Sanitize(err, 80))
	}
	r.re = re
	return r, nil
}

// labelName is what Prometheus 2 accepts as a label name.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// set sets label k of m to v, or removes it when v is empty (as
// Prometheus' labels.Builder does), and reports whether m changed.
func set(m map[string]string, k, v string) bool {
	old, had := m[k]
	if v == "" {
		delete(m, k)
		return had
	}
	m[k] = v
	return !had || old != v
}

// apply relabels m in place and reports whether it changed. keep, drop,
// keepequal and dropequal change no label: an alert they drop never
// reaches an Alertmanager, and is one row from the source alone.
func (r *relabelRule) apply(m map[string]string) bool {
	var val string
	if len(r.sourceLabels) > 0 {
		var b strings.Builder
		for i, k := range r.sourceLabels {
			if i > 0 {
				b.WriteString(r.separator)
			}
			b.WriteString(m[k])
		}
		val = b.String()
	}
	switch r.action {
	case "replace":
		idx := r.re.FindStringSubmatchIndex(val)
		if idx == nil {
			return false
		}
		target := string(r.re.ExpandString(nil, r.target, val, idx))
		if !labelName.MatchString(target) {
			return false
		}
		return set(m, target, string(r.re.ExpandString(nil, r.replacement, val, idx)))
	case "lowercase":
		return set(m, r.target, strings.ToLower(val))
	case "uppercase":
		return set(m, r.target, strings.ToUpper(val))
	case "hashmod":
		sum := md5.Sum([]byte(val))
		return set(m, r.target, strconv.FormatUint(binary.BigEndian.Uint64(sum[8:])%r.modulus, 10))
	case "labelmap":
		changed := false
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if r.re.MatchString(k) {
				changed = set(m, r.re.ReplaceAllString(k, r.replacement), m[k]) || changed
			}
		}
		return changed
	case "labeldrop", "labelkeep":
		changed := false
		for k := range m {
			if r.re.MatchString(k) == (r.action == "labeldrop") {
				delete(m, k)
				changed = true
			}
		}
		return changed
	}
	return false
}

// configYAML is what the source reads of the server's config.
type configYAML struct {
	Global struct {
		ExternalLabels map[string]string `yaml:"external_labels"`
	} `yaml:"global"`
	Alerting struct {
		AlertRelabelConfigs []relabelYAML `yaml:"alert_relabel_configs"`
		Alertmanagers       []struct {
			AlertRelabelConfigs []relabelYAML `yaml:"alert_relabel_configs"`
		} `yaml:"alertmanagers"`
	} `yaml:"alerting"`
}

// parseConfig reads the external labelling from the YAML of the
// server's config.
func parseConfig(doc string) (*external, External, error) {
	var c configYAML
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		return nil, External{}, err
	}
	var e external
	var info External
	for _, k := range slices.Sorted(maps.Keys(c.Global.ExternalLabels)) {
		if v := c.Global.ExternalLabels[k]; v != "" {
			e.names, e.values = append(e.names, k), append(e.values, v)
			if info.Labels == nil {
				info.Labels = map[string]string{}
			}
			info.Labels[k] = v
		}
	}
	for i, rc := range c.Alerting.AlertRelabelConfigs {
		r, err := newRelabelRule(rc)
		if err != nil {
			info.Warnings = append(info.Warnings, fmt.Sprintf("alert_relabel_configs[%d]: %v", i, err))
			continue
		}
		e.relabel = append(e.relabel, r)
	}
	info.Relabel = len(e.relabel)
	for i, am := range c.Alerting.Alertmanagers {
		if len(am.AlertRelabelConfigs) > 0 {
			info.Warnings = append(info.Warnings, fmt.Sprintf("alertmanagers[%d].alert_relabel_configs are not applied", i))
		}
	}
	if len(e.names) == 0 && len(e.relabel) == 0 {
		return nil, info, nil
	}
	return &e, info, nil
}

// learner reads the server's config (at the first poll, then every
// ConfigEvery) and labels each decoded alert with what it learned, before
// the alert is keyed, so that the same alert from Prometheus and from its
// Alertmanagers is one row.
//
// The source's decoder reuses alerts whose bytes did not change, labelled
// when they were decoded; when what is learned changes, the next decode
// goes without them, so every alert is labelled anew once, and the
// steady-state poll costs nothing more.
type learner struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	sched   reading
	ext     *external
	info    External
	gen     uint64    // bumped when ext changes
	decoded uint64    // the gen of the last successful decode
	loaded  time.Time // when the server says its running config was loaded
}

// configLoaded tells the learner when the server's running config was
// loaded (runtimeinfo's lastConfigTime, read with its health): a config
// reloaded since the last time it was told is read again at the next
// poll instead of within ConfigEvery. Zero: the server does not say.
func (l *learner) configLoaded(t time.Time) {
	if t.IsZero() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.loaded.IsZero() && !t.Equal(l.loaded) {
		l.sched.read, l.sched.tried = time.Time{}, time.Time{} // due now: a health read comes at most every 30 s
	}
	l.loaded = t
}

func newLearner(baseURL string, client *http.Client) *learner {
	if client == nil {
		client = http.DefaultClient
	}
	return &learner{url: strings.TrimRight(baseURL, "/") + ConfigPath, client: client,
		info: External{Unknown: "not read yet"}}
}

// refresh reads the config when it is due. A server that does not serve
// it or refuses it is asked again only after ConfigEvery; one that could
// not be reached, after minRetry.
func (l *learner) refresh(ctx context.Context, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.sched.due(now, ConfigEvery) {
		return
	}
	l.sched.try(now, func() error { return l.read(ctx) })
}

// read reads the config once; l.mu is held. Only a config read whole
// changes what is applied: a failed read keeps what the last one learned.
func (l *learner) read(ctx context.Context) error {
	var reply struct {
		Status string `json:"status"`
		Data   struct {
			YAML string `json:"yaml"`
		} `json:"data"`
	}
	err := sources.GetJSON(ctx, l.client, l.url, 0, func(body io.Reader) error {
		return json.UnmarshalRead(body, &reply, json.RejectUnknownMembers(false))
	})
	var fe *sources.FetchError
	if errors.As(err, &fe) && (fe.Status == http.StatusNotFound || fe.Status == http.StatusUnauthorized || fe.Status == http.StatusForbidden) {
		// A standing answer, asked again after ConfigEvery: alerts are
		// shown as the server lists them.
		what := "refused"
		if fe.Status == http.StatusNotFound {
			what = "not served"
		}
		l.learn(nil, External{Unknown: fmt.Sprintf("%s %s (HTTP %d)", ConfigPath, what, fe.Status), Status: fe.Status})
		return nil
	}
	if err == nil && reply.Status != "success" {
		err = sources.MalformedError(fmt.Sprintf("status %q", sources.Sanitize(reply.Status, 40)))
	}
	var ext *external
	var info External
	if err == nil {
		if ext, info, err = parseConfig(reply.Data.YAML); err != nil {
			err = sources.MalformedError("its YAML: " + sources.Sanitize(err, 120))
		}
	}
	if err != nil {
		if l.sched.read.IsZero() { // else what was learned stands
			l.info.Unknown = fmt.Sprintf("%s could not be read: %s", ConfigPath, sources.Sanitize(err, 160))
		}
		return err
	}
	l.learn(ext, info)
	return nil
}

// learn makes ext what is applied and info what is told; l.mu is held.
func (l *learner) learn(ext *external, info External) {
	if !ext.equal(l.ext) {
		l.ext = ext
		l.gen++
	}
	l.info = info
}

// equal reports whether e and o label alike.
func (e *external) equal(o *external) bool {
	if e == nil || o == nil {
		return e == o
	}
	if !slices.Equal(e.names, o.names) || !slices.Equal(e.values, o.values) || len(e.relabel) != len(o.relabel) {
		return false
	}
	for i, r := range e.relabel {
		q := o.relabel[i]
		if r.action != q.action || !slices.Equal(r.sourceLabels, q.sourceLabels) || r.separator != q.separator ||
			r.re.String() != q.re.String() || r.modulus != q.modulus || r.target != q.target || r.replacement != q.replacement {
			return false
		}
	}
	return true
}

// External returns what was learned, a copy.
func (l *learner) External() External {
	l.mu.Lock()
	defer l.mu.Unlock()
	x := l.info
	x.Labels = maps.Clone(x.Labels)
	x.Warnings = slices.Clone(x.Warnings)
	return x
}

// decode is the source's sources.MemoDecodeFunc: the Prometheus decode,
// labelling alerts with what was learned. After a change of it, the
// alerts of earlier replies are not reused (they carry the old labels)
// until one decode has succeeded without them.
func (l *learner) decode(sc *sources.JSONScanner, memo *sources.AlertMemo, data []byte, ignore []string) ([]model.Alert, error) {
	l.mu.Lock()
	ext, gen, fresh := l.ext, l.gen, l.gen != l.decoded
	l.mu.Unlock()
	if fresh && memo != nil && memo.Len() > 0 {
		memo = nil // the memo is committed empty: the next decode fills it anew
	}
	alerts, err := decodeWith(sc, memo, data, ignore, ext)
	if err == nil && fresh {
		l.mu.Lock()
		l.decoded = gen
		l.mu.Unlock()
	}
	return alerts, err
}
