package actions

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"sitroom/model"
)

// Notifier is one channel of a team: a Slack, Mattermost or Teams
// incoming webhook, a generic webhook or an e-mail address list
// (sources/notify builds them from the config). Send is called once per
// delivery attempt with the idempotency key "<action uid>/<team>/<i>".
type Notifier interface {
	Type() string
	Send(ctx context.Context, m model.NotifyMessage, key string) (ref string, err error)
}

// NotifyTeam is a team of the config with its channels, in config order:
// the delivery of its i-th channel has Dest "<team>/<i>".
type NotifyTeam struct {
	Name     string
	Channels []Notifier
	// OnResolve tells the team, once, when an outage it was told of
	// closes (notify_on_resolve).
	OnResolve bool
}

// TeamChannels is each team's channel types in config order ("slack",
// "email"), for the notify form; teams without a channel are left out.
func (d *Dispatcher) TeamChannels() map[string][]string {
	out := make(map[string][]string, len(d.opt.Teams))
	for _, t := range d.opt.Teams {
		if len(t.Channels) == 0 {
			continue
		}
		types := make([]string, len(t.Channels))
		for i, c := range t.Channels {
			types[i] = c.Type()
		}
		out[t.Name] = types
	}
	return out
}

func (d *Dispatcher) team(name string) *NotifyTeam {
	for i := range d.opt.Teams {
		if d.opt.Teams[i].Name == name {
			return &d.opt.Teams[i]
		}
	}
	return nil
}

// notifyDest is the delivery destination of a team's i-th channel.
func notifyDest(team string, i int) string { return fmt.Sprintf("%s/%d", team, i) }

// notifier is the channel a delivery's Dest names, nil when the config
// no longer has it.
func (d *Dispatcher) notifier(dest string) Notifier {
	cut := strings.LastIndexByte(dest, '/')
	if cut < 0 {
		return nil
	}
	t := d.team(dest[:cut])
	if t == nil {
		return nil
	}
	var i int
	if _, err := fmt.Sscanf(dest[cut+1:], "%d", &i); err != nil || i < 0 || i >= len(t.Channels) {
		return nil
	}
	return t.Channels[i]
}

func newActionUID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// planNotify fills a notify action's deliveries: one per (team, channel)
// the request names, each carrying the message with its team. It says
// why nothing can be sent when no team named has a channel.
func (d *Dispatcher) planNotify(a *model.Action, req model.ActionRequest) (msg, why string) {
	if req.Notify == nil {
		return "", "nothing to send"
	}
	if a.UID == "" {
		a.UID = newActionUID()
	}
	var teams, none []string
	for _, name := range req.Teams {
		t := d.team(name)
		if t == nil || len(t.Channels) == 0 {
			none = append(none, name)
			continue
		}
		m := *req.Notify
		m.UID, m.Team, m.Service = a.UID, t.Name, req.Service
		m.Operator, m.At = a.Operator, a.At
		if m.Kind == "" {
			// An update to a team a message about this outage reached,
			// the first word otherwise.
			m.Kind = model.NotifyOutage
			d.mu.Lock()
			b := d.board
			d.mu.Unlock()
			if b.NoticeOf(req.Service, t.Name).Told(m.Since) {
				m.Kind = model.NotifyUpdate
			}
		}
		for i, ch := range t.Channels {
			a.Deliveries = append(a.Deliveries, model.Delivery{Kind: model.DeliverNotify, Dest: notifyDest(t.Name, i),
				Key: t.Name, Payload: model.EncodeNotify(ch.Type(), m)})
		}
		teams = append(teams, t.Name)
	}
	if len(teams) == 0 {
		if len(none) == 0 {
			return "", "no team to tell"
		}
		return "", "no notify channel configured for " + strings.Join(none, ", ")
	}
	if a.Comment == "" {
		a.Comment = strings.TrimSpace(req.Notify.Text)
	}
	msg = fmt.Sprintf("telling %s about %s through %s", model.Plural(len(teams), "team", "teams"), req.Service,
		model.Plural(len(a.Deliveries), "channel", "channels"))
	if len(none) > 0 {
		msg += " · no channel for " + strings.Join(none, ", ")
	}
	return msg, ""
}

// deliverNotify sends one notify delivery through the channel its Dest
// names; a channel the config no longer has fails for good.
func (d *Dispatcher) deliverNotify(ctx context.Context, dl model.Delivery) (string, error) {
	ch := d.notifier(dl.Dest)
	if ch == nil {
		return "", deadErr{fmt.Errorf("notify channel %s: %w", dl.Dest, errNoDest)}
	}
	p, err := model.DecodeNotify(dl.Payload)
	if err != nil {
		return "", deadErr{fmt.Errorf("notify channel %s: unreadable message: %w", dl.Dest, err)}
	}
	m := p.Message
	if m.UID == "" {
		m.UID = dl.ActionUID
	}
	return ch.Send(ctx, m, dl.ActionUID+"/"+dl.Dest)
}

// notifyResolved tells the teams that asked for it (notify_on_resolve)
// that an outage they were told of has closed: once, as sitroom, by the
// console that clears acks (the same trust in the snapshot). It returns
// how many actions it recorded.
func (d *Dispatcher) notifyResolved(b *model.Board) int {
	if len(b.Notices) == 0 || !d.anyOnResolve() {
		return 0
	}
	snap := d.snapshot()
	if !trusted(snap) {
		return 0
	}
	n := 0
	for _, svc := range model.SortedKeys(b.Notices) {
		if snap.Outage(svc) != nil {
			continue
		}
		var teams []string
		for _, nt := range b.Notices[svc] {
			if t := d.team(nt.Team); t != nil && t.OnResolve && len(t.Channels) > 0 && nt.Kind != model.NotifyResolved &&
				nt.State != model.ActionFailed {
				teams = append(teams, nt.Team)
			}
		}
		if len(teams) == 0 {
			continue
		}
		by, role := "sitroom", model.RoleLead
		if op, vouched := d.clearer(); vouched {
			by, role = op.User, op.Role
		}
		now := d.opt.Now()
		a := &model.Action{AuditEntry: model.AuditEntry{At: now, Operator: by, Role: role, Host: d.Operator().Host,
			Verb: model.VerbNotify, Service: svc, Target: svc, Comment: "outage resolved"}}
		req := model.ActionRequest{Verb: model.VerbNotify, Service: svc, Teams: teams,
			Notify: &model.NotifyMessage{Kind: model.NotifyResolved, Text: "The outage has resolved."}}
		if _, why := d.planNotify(a, req); why != "" {
			continue
		}
		if _, err := d.cache.RecordAction(a); err != nil {
			d.opt.Logger.Warn("telling teams an outage resolved", "service", svc, "err", err)
			continue
		}
		d.opt.Logger.Info("teams told: outage resolved", "service", svc, "teams", strings.Join(teams, ","))
		n++
	}
	if n > 0 {
		d.Kick()
	}
	return n
}

func (d *Dispatcher) anyOnResolve() bool {
	for _, t := range d.opt.Teams {
		if t.OnResolve {
			return true
		}
	}
	return false
}

// trusted reports whether a snapshot may say an outage closed: every
// source has answered at least once.
func trusted(snap *model.Snapshot) bool {
	if snap == nil || len(snap.Sources) == 0 {
		return false
	}
	for _, st := range snap.Sources {
		if st.LastSuccess.IsZero() {
			return false
		}
	}
	return true
}
