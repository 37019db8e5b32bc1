package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"sync"
	"time"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/sources"
	"sitroom/sources/actions"
	"sitroom/sources/alertmanager"
)

// policyFor builds the action policy from the config: operator roles,
// escalation levels and the read-only switch.
func policyFor(cfg *config.Config, readOnly bool) *model.Policy {
	p := &model.Policy{ReadOnly: readOnly, Roles: map[string]model.Role{}}
	for who, r := range cfg.OperatorRoles {
		if role, ok := model.ParseRole(r); ok {
			p.Roles[who] = role
		}
	}
	for _, l := range cfg.Escalation {
		lvl := model.EscalationLevel{Level: l.Level, Who: l.Who, Contact: l.Contact, After: time.Duration(l.After)}
		lvl.MinRole, _ = model.ParseRole(l.MinRole)
		p.Levels = append(p.Levels, lvl)
	}
	return p
}

// currentOperator is the OS user with their groups, the host and
// SSH_CLIENT, and the role the policy gives them.
func currentOperator(p *model.Policy) model.Operator {
	op := model.Operator{User: operator(), SSHClient: os.Getenv("SSH_CLIENT")}
	op.Host, _ = os.Hostname()
	if u, err := user.Current(); err == nil {
		if ids, err := u.GroupIds(); err == nil {
			for _, id := range ids {
				if g, err := user.LookupGroupId(id); err == nil {
					op.Groups = append(op.Groups, g.Name)
				}
			}
		}
	}
	op.Role = p.RoleFor(op.User, op.Groups)
	return op
}

// newDispatcher wires the action dispatcher: a silencer per Alertmanager
// source (with that source's HTTP client settings), the webhooks and a
// client per ticket source for ticket escalations and takes.
func newDispatcher(cfg *config.Config, c *cache.Cache, p *sources.Poller, readOnly bool, log *slog.Logger) (*actions.Dispatcher, error) {
	pol := policyFor(cfg, readOnly)
	sil := map[string]actions.Silencer{}
	for _, sc := range cfg.Sources {
		if sc.Type != "alertmanager" {
			continue
		}
		hc, err := sources.NewHTTPClient(sc.HTTP, sc.Name)
		if err != nil {
			return nil, err
		}
		sil[sc.Name] = alertmanager.NewSilencer(sc.URL, hc)
	}
	var hooks []actions.Webhook
	for i := range cfg.Webhooks {
		wc := &cfg.Webhooks[i]
		hc, err := sources.NewHTTPClient(wc.HTTP, "webhook "+wc.Name)
		if err != nil {
			return nil, err
		}
		key, err := wc.Key()
		if err != nil {
			return nil, fmt.Errorf("webhooks[%d] (%s): routing key: %w", i, wc.Name, err)
		}
		hooks = append(hooks, actions.Webhook{Name: wc.Name, URL: wc.URL, Format: wc.Format, RoutingKey: key, Client: hc})
	}
	tks, err := ticketSources(cfg)
	if err != nil {
		return nil, err
	}
	return actions.New(c, actions.Options{
		Operator:  currentOperator(pol),
		Policy:    pol,
		Silencers: sil,
		Webhooks:  hooks,
		Tickets:   tks,
		Logger:    log,
		Polling:   p.Polling,
	}), nil
}

// observedFeed passes the poller's snapshots to the UI and shows each to
// the dispatcher first (which alerts each Alertmanager holds, which
// outages resolved). Before the poller's first snapshot it may pass one
// preview (see preview), which goes to the UI only.
type observedFeed struct {
	p   *sources.Poller
	out chan *model.Snapshot

	mu    sync.Mutex
	full  bool            // a poller snapshot was passed: a preview would be older
	shown *model.Snapshot // the last snapshot passed
}

// observer is what sees the poller's snapshots before the UI: the action
// dispatcher.
type observer interface{ Observe(*model.Snapshot) }

func observe(p *sources.Poller, d observer) *observedFeed {
	f := &observedFeed{p: p, out: make(chan *model.Snapshot, 1)}
	go func() {
		defer close(f.out)
		for s := range p.Snapshots() {
			if !s.Built.IsZero() { // not one that holds only why none could be built
				d.Observe(s)
			}
			f.send(s, false)
		}
	}()
	return f
}

// send passes s to the UI, dropping an unread older snapshot (latest
// wins). A preview is dropped once a poller snapshot was passed.
func (f *observedFeed) send(s *model.Snapshot, preview bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if preview && f.full {
		return
	}
	if s.Built.IsZero() && f.shown != nil {
		// No snapshot could be built yet: what is shown (a preview)
		// stays, with why.
		c := *f.shown
		c.CacheError = s.CacheError
		s = &c
	} else {
		f.full = f.full || !preview
	}
	f.shown = s
	for {
		select {
		case f.out <- s:
			return
		default:
		}
		select {
		case <-f.out:
		default:
		}
	}
}

// preview passes the UI a snapshot of the limit most severe open alerts
// of the cache (sources.Poller.Preview) unless the poller's first
// snapshot got there first, so the first frame with data does not wait
// for the cache to load every open alert. The dispatcher never sees it.
func (f *observedFeed) preview(limit int, log *slog.Logger) {
	snap, err := f.p.Preview(limit)
	if err != nil {
		log.Warn("previewing the cache", "err", err)
		return
	}
	f.send(snap, true)
}

// Snapshots is the poller's snapshots, latest wins.
func (f *observedFeed) Snapshots() <-chan *model.Snapshot { return f.out }

// Refresh asks the poller for a poll now.
func (f *observedFeed) Refresh() { f.p.Refresh() }
