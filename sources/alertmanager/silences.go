package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"

	"sitroom/model"
	"sitroom/sources"
)

// Silence is a silence as GET /api/v2/silences returns it.
type Silence struct {
	ID        string                 `json:"id"`
	Status    struct{ State string } `json:"status"` // active, pending or expired
	Matchers  []SilenceMatcher       `json:"matchers"`
	StartsAt  time.Time              `json:"startsAt"`
	EndsAt    time.Time              `json:"endsAt"`
	UpdatedAt time.Time              `json:"updatedAt"`
	CreatedBy string                 `json:"createdBy"`
	Comment   string                 `json:"comment"`
}

// Live reports whether the silence is active or pending (not expired).
func (s *Silence) Live() bool { return s.Status.State != "expired" }

// Model is the silence as sitroom keeps it, read from the source called
// source: its state as the Alertmanager says (a state it does not know is
// taken as active) and its matchers in Alertmanager's syntax.
func (s *Silence) Model(source string) model.Silence {
	st := model.SilenceState(s.Status.State)
	switch st {
	case model.SilenceActive, model.SilencePending, model.SilenceExpired:
	default:
		st = model.SilenceActive
	}
	return model.Silence{Source: source, ID: s.ID, CreatedBy: s.CreatedBy, Comment: s.Comment, StartsAt: s.StartsAt,
		EndsAt: s.EndsAt, UpdatedAt: s.UpdatedAt, State: st, Matchers: MatchersText(s.Matchers)}
}

// MatchersText writes matchers as amtool prints them:
// {alertname="DBDown", instance=~"n1|n2"}.
func MatchersText(ms []SilenceMatcher) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		t := labels.MatchEqual
		switch {
		case m.IsRegex && m.IsEqual:
			t = labels.MatchRegexp
		case m.IsRegex:
			t = labels.MatchNotRegexp
		case !m.IsEqual:
			t = labels.MatchNotEqual
		}
		// labels.Matcher.String quotes the value and, where needed, the
		// name; a regexp that does not compile is written the same way.
		lm := labels.Matcher{Type: t, Name: m.Name, Value: m.Value}
		parts = append(parts, lm.String())
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// SilenceMatcher is one matcher of a silence.
type SilenceMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`
}

// PostableSilence is a new silence as POST /api/v2/silences takes it.
// With ID set it changes that silence: the Alertmanager updates it in
// place, or (an active one whose start or matchers changed) expires it
// and answers with the id of the silence that replaces it.
type PostableSilence struct {
	ID        string           `json:"id,omitempty"`
	Matchers  []SilenceMatcher `json:"matchers"`
	StartsAt  time.Time        `json:"startsAt"`
	EndsAt    time.Time        `json:"endsAt"`
	CreatedBy string           `json:"createdBy"`
	Comment   string           `json:"comment"`
}

// EqualMatchers turns a label set into equality matchers, sorted by name.
func EqualMatchers(labels map[string]string) []SilenceMatcher {
	out := make([]SilenceMatcher, 0, len(labels))
	for k, v := range labels {
		out = append(out, SilenceMatcher{Name: k, Value: v, IsEqual: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Silencer reads, creates and expires the silences of one Alertmanager.
// Its methods are safe for concurrent use; each honours ctx.
type Silencer struct {
	base   string
	client *http.Client
}

// NewSilencer returns a client for the Alertmanager at baseURL (possibly
// with a path prefix) using client (http.DefaultClient when nil), which
// carries the source's HTTPClientConfig (auth, TLS, tenant header).
func NewSilencer(baseURL string, client *http.Client) *Silencer {
	if client == nil {
		client = http.DefaultClient
	}
	return &Silencer{base: strings.TrimRight(baseURL, "/"), client: client}
}

const maxSilenceReply = 32 << 20

// List returns every silence the Alertmanager holds (expired ones too,
// until it forgets them).
func (s *Silencer) List(ctx context.Context) ([]Silence, error) {
	var out []Silence
	err := s.do(ctx, http.MethodGet, "/api/v2/silences", nil, &out)
	return out, err
}

// Silences lists every silence the Alertmanager holds as sitroom keeps
// them (sources.SilenceReader): the poller reads them with the alerts.
func (s *Silencer) Silences(ctx context.Context, source string) ([]model.Silence, error) {
	list, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]model.Silence, 0, len(list))
	for i := range list {
		out = append(out, list[i].Model(source))
	}
	return out, nil
}

// Create posts a new silence and returns its id.
func (s *Silencer) Create(ctx context.Context, sil PostableSilence) (string, error) {
	var reply struct {
		SilenceID string `json:"silenceID"`
	}
	if err := s.do(ctx, http.MethodPost, "/api/v2/silences", sil, &reply); err != nil {
		return "", err
	}
	if reply.SilenceID == "" {
		return "", sources.MalformedError("silence reply without silenceID")
	}
	return reply.SilenceID, nil
}

// Expire ends a silence now. A silence the Alertmanager no longer knows
// counts as expired.
func (s *Silencer) Expire(ctx context.Context, id string) error {
	err := s.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil)
	if fe := (*sources.FetchError)(nil); errors.As(err, &fe) && fe.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// do sends one request to the silences API through sources.Do, so its
// failures read like every other upstream's; a FetchError's Permanent
// tells the outbox whether to retry.
func (s *Silencer) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ctype := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	var decode func(io.Reader) error
	if out != nil {
		decode = func(r io.Reader) error {
			data, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			if len(bytes.TrimSpace(data)) == 0 {
				return nil
			}
			if err := json.Unmarshal(data, out); err != nil {
				return sources.MalformedError("silences reply: " + err.Error())
			}
			return nil
		}
	}
	return sources.Do(ctx, s.client, method, s.base+path, ctype, body, maxSilenceReply, decode)
}
