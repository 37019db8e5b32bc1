package actions

import (
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"time"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/notify"
	"sitroom/sources/tickets"
)

// PolicyFor builds the action policy from the config: operator roles,
// escalation levels and the read-only switch.
func PolicyFor(cfg *config.Config, readOnly bool) *model.Policy {
	p := &model.Policy{ReadOnly: readOnly, Roles: map[string]model.Role{}, NotifyAfter: time.Duration(cfg.NotifyAfter)}
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

// OSUser is the OS user running this process ($USER when it cannot be
// looked up, else "unknown").
func OSUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if v := os.Getenv("USER"); v != "" {
		return v
	}
	return "unknown"
}

// CurrentOperator is the OS user with their groups, the host and
// SSH_CLIENT, and the role the policy gives them.
func CurrentOperator(p *model.Policy) model.Operator {
	op := model.Operator{User: OSUser(), SSHClient: os.Getenv("SSH_CLIENT")}
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

// FromConfig builds the dispatcher the config describes, acting as the
// current operator: a silencer per Alertmanager source (with that source's
// HTTP client settings), the escalation webhooks and a client per ticket
// source for ticket escalations and takes, and the teams' notify
// channels (Dest "<team>/<i>"). polling reports whether this
// process holds the polling lease (Options.Polling).
func FromConfig(cfg *config.Config, c *cache.Cache, polling func() bool, readOnly bool, log *slog.Logger) (*Dispatcher, error) {
	pol := PolicyFor(cfg, readOnly)
	sil := map[string]Silencer{}
	for _, sc := range cfg.Sources {
		if sc.Type != alertmanager.Type {
			continue
		}
		hc, err := sources.NewHTTPClient(sc.HTTP, sc.Name)
		if err != nil {
			return nil, err
		}
		sil[sc.Name] = alertmanager.NewSilencer(sc.URL, hc)
	}
	var hooks []Webhook
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
		hooks = append(hooks, Webhook{Name: wc.Name, URL: wc.URL, Format: wc.Format, RoutingKey: key, Client: hc})
	}
	tks, err := tickets.FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	teams, err := notifyTeams(cfg)
	if err != nil {
		return nil, err
	}
	return New(c, Options{
		Operator:  CurrentOperator(pol),
		Policy:    pol,
		Silencers: sil,
		Webhooks:  hooks,
		Tickets:   tks,
		Teams:     teams,
		Logger:    log,
		Polling:   polling,
	}), nil
}

// notifyTeams builds each config team's channels, in config order.
func notifyTeams(cfg *config.Config) ([]NotifyTeam, error) {
	var out []NotifyTeam
	for _, t := range cfg.Teams {
		nt := NotifyTeam{Name: t.Name, OnResolve: t.NotifyOnResolve}
		for i, ch := range t.Notify {
			n, err := notify.New(ch, cfg.SMTP, notifyDest(t.Name, i))
			if err != nil {
				return nil, err
			}
			nt.Channels = append(nt.Channels, n)
		}
		out = append(out, nt)
	}
	return out, nil
}
