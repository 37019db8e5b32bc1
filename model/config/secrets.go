package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"

	pconfig "github.com/prometheus/common/config"
	yaml2 "go.yaml.in/yaml/v2"
)

// collectSecrets lists every inline secret a value holds: each non-empty
// pconfig.Secret and the password of any URL with credentials.
func collectSecrets(v any) []string {
	var out []string
	collectValue(reflect.ValueOf(v), &out, 0)
	return out
}

func collectValue(v reflect.Value, out *[]string, depth int) {
	if depth > maxWalkDepth || !v.IsValid() {
		return
	}
	if v.Type() == secretType {
		if s := v.String(); s != "" {
			*out = append(*out, s)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collectValue(v.Elem(), out, depth+1)
		}
	case reflect.Struct:
		if u, ok := v.Interface().(pconfig.URL); ok {
			if u.URL != nil && u.User != nil {
				if p, ok := u.User.Password(); ok && p != "" {
					*out = append(*out, p)
				}
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				collectValue(v.Field(i), out, depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			collectValue(v.Index(i), out, depth+1)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			collectValue(it.Value(), out, depth+1)
		}
	case reflect.String:
		s := v.String()
		if strings.Contains(s, "@") && strings.Contains(s, "://") {
			if u, err := url.Parse(s); err == nil && u.User != nil {
				if p, ok := u.User.Password(); ok && p != "" {
					*out = append(*out, p)
				}
			}
		}
	}
}

// String renders the configuration as YAML with every secret shown as
// <secret>, whatever pconfig.MarshalSecretValue says.
func (c Config) String() string {
	return redactedYAML(&c, collectSecrets(&c))
}

// Redacted renders the source as one YAML flow line with every secret
// shown as <secret>, fit for `sitroom check` and logs.
func (s *Source) Redacted() string {
	out := redactedYAML(s, collectSecrets(s))
	return strings.TrimSpace(out)
}

// String is Redacted.
func (s Source) String() string { return s.Redacted() }

func redactedYAML(v any, secrets []string) string {
	b, err := yaml2.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<unprintable config: %s>", scrubString(err.Error(), secrets))
	}
	return scrubString(string(b), secrets)
}

// Warnings lists problems that do not stop sitroom from running but that
// an operator should fix, such as a config file holding inline secrets
// while other users can read it.
func (c *Config) Warnings() []string {
	var w []string
	if c.path != "" && c.mode&0o044 != 0 && len(collectSecrets(c)) > 0 {
		w = append(w, fmt.Sprintf("%s is readable by others and holds inline secrets; chmod 600 or use *_file", filepath.Base(c.path)))
	}
	for i, s := range c.Sources {
		if strings.HasPrefix(s.URL, "http://") && hasCredentials(&s.HTTP) {
			w = append(w, fmt.Sprintf("sources[%d] (%s) sends credentials over plain http", i, s.Name))
		}
	}
	return w
}

func hasCredentials(h *pconfig.HTTPClientConfig) bool {
	return h.BasicAuth != nil || h.Authorization != nil || h.OAuth2 != nil || h.BearerToken != "" || h.BearerTokenFile != ""
}
