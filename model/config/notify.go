package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	pconfig "github.com/prometheus/common/config"
)

// Notification channel types.
const (
	ChannelSlack      = "slack"      // Slack incoming webhook
	ChannelMSTeams    = "msteams"    // Microsoft Teams incoming webhook or Workflows (Adaptive Card)
	ChannelMattermost = "mattermost" // Mattermost incoming webhook
	ChannelWebhook    = "webhook"    // sitroom's generic JSON (docs/notify.md)
	ChannelEmail      = "email"      // e-mail through the top-level smtp relay
)

var channelTypes = []string{ChannelSlack, ChannelMSTeams, ChannelMattermost, ChannelWebhook, ChannelEmail}

// ChannelTypes lists the notification channel types this build knows.
func ChannelTypes() []string { return append([]string(nil), channelTypes...) }

// SMTP TLS modes.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded with STARTTLS (required)
	SMTPTLS      = "tls"      // TLS from the first byte (SMTPS)
	SMTPNone     = "none"     // plain text: a loopback relay, tests
)

var smtpTLSModes = []string{SMTPStartTLS, SMTPTLS, SMTPNone}

// OwnerTeam is one entry of teams: a team a service's owner may name, and
// how to tell it about an outage. (Config.Team is the team store, a
// different thing.)
type OwnerTeam struct {
	// Name is what services' owner names; unique.
	Name string `yaml:"name"`
	// Notify lists the team's channels, each told once per notification.
	Notify []NotifyChannel `yaml:"notify,omitempty"`
	// NotifyOnResolve tells the teams that were told when the outage
	// closes.
	NotifyOnResolve bool `yaml:"notify_on_resolve,omitempty"`
}

// NotifyChannel is one way to reach a team. The chat and webhook types
// take a URL (a secret: it carries the webhook's token) inline or from a
// file, and prometheus/common's HTTP client settings inline, as sources
// do; email takes recipients and uses the top-level smtp relay.
type NotifyChannel struct {
	// Type is slack, msteams, mattermost, webhook or email.
	Type string `yaml:"type"`
	// URL is the webhook's address; never printed or logged.
	URL pconfig.Secret `yaml:"url,omitempty"`
	// URLFile names a file holding the URL (relative to the config).
	URLFile string `yaml:"url_file,omitempty"`
	// To lists the recipients of an email channel.
	To []string `yaml:"to,omitempty"`

	HTTP pconfig.HTTPClientConfig `yaml:",inline"`
}

// SMTP is the mail relay every email channel sends through.
type SMTP struct {
	// Host is the relay's host name or address.
	Host string `yaml:"host"`
	// Port defaults to 587 (25 with tls: none, 465 with tls: tls).
	Port int `yaml:"port,omitempty"`
	// From is the sender's address.
	From string `yaml:"from"`
	// Username, when set, authenticates (SMTP AUTH) with the password in
	// PasswordFile.
	Username string `yaml:"username,omitempty"`
	// PasswordFile holds the password (relative to the config; a
	// trailing newline is dropped). Never printed or logged.
	PasswordFile string `yaml:"password_file,omitempty"`
	// TLS is starttls (the default, and for port 587), tls (SMTPS,
	// port 465) or none (plain text: a relay on loopback, tests).
	TLS string `yaml:"tls,omitempty"`
}

// UnmarshalYAML applies prometheus/common's HTTP client defaults, which the
// decoder does not apply to an inline field.
func (n *NotifyChannel) UnmarshalYAML(unmarshal func(any) error) error {
	*n = NotifyChannel{HTTP: pconfig.DefaultHTTPClientConfig}
	type plain NotifyChannel
	return unmarshal((*plain)(n))
}

// IsHTTP reports whether the channel is posted to a URL (every type but
// email).
func (n *NotifyChannel) IsHTTP() bool { return n.Type != ChannelEmail }

// Endpoint returns the channel's URL, reading URLFile when set (a
// trailing newline dropped). The URL is a secret: never log or print it.
func (n *NotifyChannel) Endpoint() (string, error) {
	if n.URLFile == "" {
		return string(n.URL), nil
	}
	b, err := os.ReadFile(n.URLFile)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// setDirectory resolves relative file paths against the config's directory.
func (n *NotifyChannel) setDirectory(dir string) {
	n.HTTP.SetDirectory(dir)
	if n.URLFile != "" && !filepath.IsAbs(n.URLFile) {
		n.URLFile = filepath.Join(dir, n.URLFile)
	}
}

// Mode returns the TLS mode in force: tls as set, else starttls, or tls
// on port 465.
func (s *SMTP) Mode() string {
	switch {
	case s.TLS != "":
		return s.TLS
	case s.Port == 465:
		return SMTPTLS
	}
	return SMTPStartTLS
}

// PortOrDefault returns the port, or the default for the TLS mode: 465
// for tls, 25 for none, 587 for starttls.
func (s *SMTP) PortOrDefault() int {
	if s.Port != 0 {
		return s.Port
	}
	switch s.Mode() {
	case SMTPTLS:
		return 465
	case SMTPNone:
		return 25
	}
	return 587
}

// Password reads PasswordFile ("" when not set). It is a secret: never
// log or print it.
func (s *SMTP) Password() (string, error) {
	if s.PasswordFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// TeamNamed returns the team of teams called name, or nil: a service
// owner naming no team is shown as text, with no channels.
func (c *Config) TeamNamed(name string) *OwnerTeam {
	for i := range c.Teams {
		if c.Teams[i].Name == name {
			return &c.Teams[i]
		}
	}
	return nil
}

func (c *Config) notifyDirectories(dir string) {
	if dir == "" {
		return
	}
	for i := range c.Teams {
		for j := range c.Teams[i].Notify {
			c.Teams[i].Notify[j].setDirectory(dir)
		}
	}
	if c.SMTP != nil && c.SMTP.PasswordFile != "" && !filepath.IsAbs(c.SMTP.PasswordFile) {
		c.SMTP.PasswordFile = filepath.Join(dir, c.SMTP.PasswordFile)
	}
}

// notify checks teams, smtp and notify_after. No URL, URL file content
// or password is ever echoed.
func (v *validator) notify() {
	if v.c.NotifyAfter < 0 {
		v.near("notify_after", "must not be negative")
	}
	mail := false
	seen := map[string]int{}
	for i := range v.c.Teams {
		t := &v.c.Teams[i]
		p := "teams[" + strconv.Itoa(i) + "]"
		v.name(p, "team", "teams", t.Name, i, seen)
		for j := range t.Notify {
			n := &t.Notify[j]
			if n.Type == ChannelEmail {
				mail = true
			}
			v.channel(p+".notify["+strconv.Itoa(j)+"]", n)
		}
	}
	if s := v.c.SMTP; s != nil {
		v.smtp(s)
	} else if mail {
		for i, t := range v.c.Teams {
			for j, n := range t.Notify {
				if n.Type == ChannelEmail {
					v.near("teams["+strconv.Itoa(i)+"].notify["+strconv.Itoa(j)+"].type",
						"an email channel needs the top-level smtp key (host, from)")
				}
			}
		}
	}
}

// near reports a problem at path, located at the line of path or, when
// the key is absent from the file, of the nearest enclosing key.
func (v *validator) near(path, format string, args ...any) {
	line := 0
	for p := path; p != "" && line == 0; {
		line = v.c.lines[p]
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	v.errs = append(v.errs, &fieldError{line: line, path: path, msg: fmt.Sprintf(format, args...)})
}

func (v *validator) channel(p string, n *NotifyChannel) {
	switch {
	case n.Type == "":
		v.near(p+".type", "a channel needs a type (%s)", oneOf(channelTypes))
		return
	case !contains(channelTypes, n.Type):
		v.near(p+".type", "unknown channel type %q (want %s)", clip(n.Type), oneOf(channelTypes))
		return
	}
	if !n.IsHTTP() {
		if n.URL != "" || n.URLFile != "" {
			v.near(p+".url", "an email channel has no url: name its recipients with to")
		}
		if !reflect.DeepEqual(n.HTTP, pconfig.DefaultHTTPClientConfig) && !reflect.DeepEqual(n.HTTP, pconfig.HTTPClientConfig{}) {
			v.near(p, "HTTP client settings (basic_auth, tls_config, …) are not for an email channel: the smtp key says how to send")
		}
		if len(n.To) == 0 {
			v.near(p+".to", "an email channel needs at least one address in to")
		}
		for k, a := range n.To {
			if msg := checkAddress(a); msg != "" {
				v.near(p+".to["+strconv.Itoa(k)+"]", "%s", msg)
			}
		}
		return
	}
	if len(n.To) > 0 {
		v.near(p+".to", "to is only for email channels")
	}
	switch {
	case n.URL != "" && n.URLFile != "":
		v.near(p+".url", "at most one of url and url_file")
	case n.URL == "" && n.URLFile == "":
		v.near(p+".url", "a %s channel needs url or url_file", n.Type)
	case n.URL != "":
		if msg := checkURL(string(n.URL)); msg != "" {
			v.near(p+".url", "%s", strings.Replace(msg, "a source needs", "a channel needs", 1))
		}
	default:
		u, err := n.Endpoint()
		switch {
		case err != nil:
			v.near(p+".url_file", "cannot read the URL file: %v", err)
		case checkURL(u) != "":
			// The message may quote the URL: say only that it is wrong.
			v.near(p+".url_file", "the file does not hold an absolute http:// or https:// URL without credentials")
		}
	}
	if err := n.HTTP.Validate(); err != nil {
		v.near(p, "%v", err)
	}
}

// checkAddress explains what is wrong with an e-mail address, or "".
func checkAddress(a string) string {
	switch {
	case hasControl(a):
		return "control characters are not allowed in an address"
	case strings.TrimSpace(a) == "":
		return "empty address"
	case !strings.Contains(a, "@") || strings.ContainsAny(a, " <>,;\"") || strings.HasPrefix(a, "@") || strings.HasSuffix(a, "@"):
		return "not an e-mail address " + strconv.Quote(clip(a)) + " (want name@domain)"
	}
	return ""
}

func (v *validator) smtp(s *SMTP) {
	if strings.TrimSpace(s.Host) == "" || hasControl(s.Host) || strings.ContainsAny(s.Host, " /") {
		v.near("smtp.host", "smtp needs the relay's host name or address")
	}
	if s.Port < 0 || s.Port > 65535 {
		v.near("smtp.port", "%d is not a port number", s.Port)
	}
	if msg := checkAddress(s.From); msg != "" {
		if s.From == "" {
			msg = "smtp needs the sender's address"
		}
		v.near("smtp.from", "%s", msg)
	}
	if s.TLS != "" && !contains(smtpTLSModes, s.TLS) {
		v.near("smtp.tls", "unknown mode %q (want %s)", clip(s.TLS), oneOf(smtpTLSModes))
	}
	if hasControl(s.Username) {
		v.near("smtp.username", "control characters are not allowed in the username")
	}
	switch {
	case s.Username != "" && s.PasswordFile == "":
		v.near("smtp.password_file", "smtp.username is set: name the file holding its password")
	case s.Username == "" && s.PasswordFile != "":
		v.near("smtp.username", "smtp.password_file is set: name the user it belongs to")
	case s.PasswordFile != "":
		if f, err := os.Open(s.PasswordFile); err != nil {
			v.near("smtp.password_file", "cannot read the password file: %v", err)
		} else {
			f.Close()
		}
	}
}
