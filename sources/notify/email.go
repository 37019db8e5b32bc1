package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"sitroom/model"
	"sitroom/model/config"
)

// emailChannel sends a text/plain mail through the config's SMTP relay.
type emailChannel struct {
	name     string
	to       []string
	smtp     config.SMTP
	password string // a secret
}

func newEmail(ch config.NotifyChannel, smtp *config.SMTP, name string) (Channel, error) {
	if smtp == nil {
		return nil, fmt.Errorf("channel %s: an email channel needs the smtp key", name)
	}
	if len(ch.To) == 0 {
		return nil, fmt.Errorf("channel %s: an email channel needs at least one address in to", name)
	}
	pw, err := smtp.Password()
	if err != nil {
		return nil, fmt.Errorf("channel %s: smtp.password_file: %w", name, err)
	}
	e := &emailChannel{name: name, to: append([]string(nil), ch.To...), smtp: *smtp, password: pw}
	if _, err := e.client(); err != nil {
		return nil, fmt.Errorf("channel %s: %s", name, scrub(err.Error(), e.secrets()))
	}
	return e, nil
}

func (e *emailChannel) Type() string { return config.ChannelEmail }

func (e *emailChannel) secrets() []string {
	if len(e.password) < 3 {
		return nil
	}
	return []string{e.password}
}

// client is a go-mail client for the relay, in its TLS mode.
func (e *emailChannel) client() (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(e.smtp.PortOrDefault()), mail.WithTimeout(30 * time.Second)}
	switch e.smtp.Mode() {
	case config.SMTPNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case config.SMTPTLS:
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if e.smtp.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(e.smtp.Username),
			mail.WithPassword(e.password))
	}
	return mail.NewClient(e.smtp.Host, opts...)
}

// headerSafe drops every control character (CR and LF among them) from a
// header's value, so no text can end the header and start another.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, s)
}

// MessageID is the Message-ID of the mail sent with idempotency key key
// from the address from: the same for every attempt, so a copy sent again
// after a lost reply is recognisable as the same message.
func MessageID(key, from string) string {
	sum := sha256.Sum256([]byte(key))
	domain := "sitroom.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = headerSafe(from[i+1:])
	}
	return "sitroom." + hex.EncodeToString(sum[:16]) + "@" + domain
}

// body is the mail's text: the title, the facts one a line, and the
// operator's message.
func body(m model.NotifyMessage) string {
	var b strings.Builder
	b.WriteString(m.Title() + "\n\n")
	for _, f := range facts(m) {
		b.WriteString(f.label + ": " + f.value + "\n")
	}
	if t := text(m.Text); len(t) > 0 {
		b.WriteString("\n")
		for _, l := range t {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// Send mails m to the channel's recipients once. A reply of the relay in
// 5xx (a recipient or the message refused) is permanent, but not an
// authentication failure (530, 534, 535, 538: credentials can be fixed);
// a 4xx or a connection failure is retried.
func (e *emailChannel) Send(ctx context.Context, m model.NotifyMessage, key string) (string, error) {
	msg := mail.NewMsg()
	if err := msg.From(e.smtp.From); err != nil {
		return "", &Error{Msg: e.name + ": smtp.from: " + err.Error(), Perm: true}
	}
	if err := msg.To(e.to...); err != nil {
		return "", &Error{Msg: e.name + ": to: " + err.Error(), Perm: true}
	}
	msg.Subject(headerSafe(m.Title()))
	id := MessageID(key, e.smtp.From)
	msg.SetMessageIDWithValue(id)
	msg.SetDateWithValue(time.Now())
	msg.SetBodyString(mail.TypeTextPlain, body(m))
	c, err := e.client()
	if err != nil {
		return "", &Error{Msg: e.name + ": " + scrub(err.Error(), e.secrets()), Perm: true}
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		out := &Error{Msg: "SMTP: " + scrub(err.Error(), e.secrets())}
		var se *mail.SendError
		if errors.As(err, &se) {
			out.Status = se.ErrorCode()
			switch out.Status {
			case 530, 534, 535, 538:
			default:
				out.Perm = out.Status >= 500 && !se.IsTemp()
			}
		}
		return "", out
	}
	return fmt.Sprintf("email: sent to %s <%s>", model.Plural(len(e.to), "address", "addresses"), id), nil
}
