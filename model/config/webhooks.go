package config

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	pconfig "github.com/prometheus/common/config"
)

// Webhook formats.
const (
	WebhookJSON      = "json"      // sitroom's generic escalation event
	WebhookPagerDuty = "pagerduty" // PagerDuty Events API v2
)

var webhookFormats = []string{WebhookJSON, WebhookPagerDuty}

// Webhook is told about every escalation, through the outbox (retried, never
// lost). HTTP client settings (auth, TLS, proxy, headers) are inline, as
// for HTTP sources.
type Webhook struct {
	// Name identifies the webhook in the audit log and on screen; unique.
	Name string `yaml:"name"`
	// URL is where the event is POSTed (absolute http(s)).
	URL string `yaml:"url"`
	// Format is json (default) or pagerduty.
	Format string `yaml:"format,omitempty"`
	// RoutingKey is the PagerDuty integration key (pagerduty format); or
	// name a file holding it with RoutingKeyFile (relative to the config).
	RoutingKey     pconfig.Secret `yaml:"routing_key,omitempty"`
	RoutingKeyFile string         `yaml:"routing_key_file,omitempty"`

	HTTP pconfig.HTTPClientConfig `yaml:",inline"`
}

// UnmarshalYAML applies prometheus/common's HTTP client defaults, which the
// decoder does not apply to an inline field.
func (w *Webhook) UnmarshalYAML(unmarshal func(any) error) error {
	*w = Webhook{HTTP: pconfig.DefaultHTTPClientConfig}
	type plain Webhook
	return unmarshal((*plain)(w))
}

// Key returns the PagerDuty routing key, reading RoutingKeyFile when set.
// The key is a secret: never log or print it.
func (w *Webhook) Key() (string, error) {
	if w.RoutingKeyFile == "" {
		return string(w.RoutingKey), nil
	}
	b, err := os.ReadFile(w.RoutingKeyFile)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// setDirectory resolves relative file paths against the config's directory.
func (w *Webhook) setDirectory(dir string) {
	w.HTTP.SetDirectory(dir)
	if w.RoutingKeyFile != "" && !filepath.IsAbs(w.RoutingKeyFile) {
		w.RoutingKeyFile = filepath.Join(dir, w.RoutingKeyFile)
	}
}

func (v *validator) webhooks() {
	seen := map[string]int{}
	for i := range v.c.Webhooks {
		w := &v.c.Webhooks[i]
		p := "webhooks[" + strconv.Itoa(i) + "]"
		v.name(p, "webhook", "webhooks", w.Name, i, seen)
		if msg := checkURL(w.URL); msg != "" {
			v.errorf(p+".url", "%s", strings.Replace(msg, "a source needs", "a webhook needs", 1))
		}
		if w.Format != "" && !contains(webhookFormats, w.Format) {
			v.errorf(p+".format", "unknown format %q (want %s)", clip(w.Format), oneOf(webhookFormats))
		}
		switch {
		case w.RoutingKey != "" && w.RoutingKeyFile != "":
			v.errorf(p+".routing_key", "at most one of routing_key and routing_key_file")
		case w.Format == WebhookPagerDuty && w.RoutingKey == "" && w.RoutingKeyFile == "":
			v.errorf(p+".routing_key", "the pagerduty format needs routing_key or routing_key_file")
		case w.Format != WebhookPagerDuty && (w.RoutingKey != "" || w.RoutingKeyFile != ""):
			v.errorf(p+".routing_key", "a routing key is only used by the pagerduty format")
		}
		if err := w.HTTP.Validate(); err != nil {
			v.errorf(p, "%v", err)
		}
	}
}
