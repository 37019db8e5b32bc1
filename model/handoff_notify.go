package model

import (
	"sort"
	"time"
)

// HandoffNotification is what the teams an outage of the report affected
// were told: every notify message to each team, and the impacted teams no
// message reached.
type HandoffNotification struct {
	Service string    `json:"service"`
	Opened  time.Time `json:"opened"`
	// Told lists each notify action's message to each team, oldest first.
	Told []HandoffTold `json:"told"`
	// NeverTold are the teams the outage affected (its own team, the
	// teams of the services downstream, the owner of its probable cause)
	// that no message reached by the window's end, nearest first.
	NeverTold []string `json:"never_told"`
}

// HandoffTold is one notify action's message to one team.
type HandoffTold struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Team string    `json:"team"`
	Kind string    `json:"kind"` // outage, update, resolved
	// State is the worst of its channels': pending, failed or delivered.
	State    string           `json:"state"`
	Channels []HandoffChannel `json:"channels"`
}

// HandoffChannel is what became of a message on one of a team's channels.
type HandoffChannel struct {
	Type  string `json:"type"`  // slack, msteams, mattermost, webhook, email
	State string `json:"state"` // pending, failed, delivered
	Error string `json:"error"` // the last failure in words
}

// notifications lists, per outage of the report in its order, what its
// teams were told before w's end and which were never told. The teams an
// outage affected come from opt.Catalog (none without one); the probable
// cause is the deepest upstream service whose outage was open when it
// opened.
func notifications(h *History, outages []HandoffOutage, opt HandoffOptions, w Window) []HandoffNotification {
	out := []HandoffNotification{}
	byService := map[string][]int{}
	for i, o := range outages {
		byService[o.Service] = append(byService[o.Service], i)
	}
	// Each message belongs to the latest outage of its service opened
	// at or before it (a "resolved" message follows its outage's close).
	told := make([][]HandoffTold, len(outages))
	index := map[[2]string]int{} // (action uid, team) → position in told[i]
	recs := append([]NotificationRecord(nil), h.Notifications...)
	sort.SliceStable(recs, func(i, j int) bool {
		if !recs[i].At.Equal(recs[j].At) {
			return recs[i].At.Before(recs[j].At)
		}
		if recs[i].Team != recs[j].Team {
			return recs[i].Team < recs[j].Team
		}
		return recs[i].Index < recs[j].Index
	})
	for _, n := range recs {
		if !n.At.Before(w.To) {
			continue
		}
		k := -1
		for _, i := range byService[n.Service] {
			if !outages[i].Opened.After(n.At) && (k < 0 || outages[i].Opened.After(outages[k].Opened)) {
				k = i
			}
		}
		if k < 0 {
			continue
		}
		key := [2]string{n.ActionUID, n.Team}
		p, ok := index[key]
		if !ok {
			p = len(told[k])
			index[key] = p
			told[k] = append(told[k], HandoffTold{At: n.At.UTC(), By: n.Operator, Team: n.Team, Kind: n.Kind, Channels: []HandoffChannel{}})
		}
		t := &told[k][p]
		t.Channels = append(t.Channels, HandoffChannel{Type: n.Channel, State: string(n.State), Error: n.Error})
	}
	for i, o := range outages {
		reached := map[string]bool{}
		for j := range told[i] {
			t := &told[i][j]
			t.State = worstChannel(t.Channels)
			for _, c := range t.Channels {
				if c.State == string(ActionDelivered) {
					reached[t.Team] = true
				}
			}
		}
		never := []string{}
		for _, team := range affectedTeams(h, o, opt) {
			if !reached[team] {
				never = append(never, team)
			}
		}
		if len(told[i]) == 0 && len(never) == 0 {
			continue
		}
		if told[i] == nil {
			told[i] = []HandoffTold{}
		}
		out = append(out, HandoffNotification{Service: o.Service, Opened: o.Opened, Told: told[i], NeverTold: never})
	}
	return out
}

// worstChannel is a message's state: pending if a channel is, failed if
// one failed, delivered when every one was.
func worstChannel(cs []HandoffChannel) string {
	st := string(ActionDelivered)
	for _, c := range cs {
		switch c.State {
		case string(ActionPending):
			return c.State
		case string(ActionFailed):
			st = c.State
		case string(ActionDelivered):
		default:
			if st == string(ActionDelivered) {
				st = c.State
			}
		}
	}
	return st
}

// affectedTeams are the teams an outage affected, nearest first: its
// service's owner, the owners of its downstream services, then the owner
// of its probable cause: the deepest upstream service with an outage open
// when it opened (ties: the earliest opened, then the name). Only the
// teams in opt.NotifyTeams count when it is set.
func affectedTeams(h *History, o HandoffOutage, opt HandoffOptions) []string {
	cat := opt.Catalog
	if cat == nil {
		return nil
	}
	svc := cat.Lookup(o.Service)
	if svc == nil {
		return nil
	}
	out := &Outage{Service: o.Service, Owner: svc.Owner, Impact: cat.Impact(o.Service)}
	if out.Impact != nil {
		depth := map[string]int{}
		for _, n := range out.Impact.Upstream {
			depth[n.Service] = n.Depth
		}
		var best *OutageRecord
		for i := range h.Outages {
			r := &h.Outages[i]
			d, up := depth[r.Service]
			if !up || r.Opened.After(o.Opened) || (!r.Closed.IsZero() && !r.Closed.After(o.Opened)) {
				continue
			}
			if best == nil || d > depth[best.Service] ||
				(d == depth[best.Service] && (r.Opened.Before(best.Opened) || (r.Opened.Equal(best.Opened) && r.Service < best.Service))) {
				best = r
			}
		}
		if best != nil {
			out.ProbableCause = best.Service
		}
	}
	teams := TeamsToTell(out, cat)
	if opt.NotifyTeams == nil {
		return teams
	}
	known := map[string]bool{}
	for _, t := range opt.NotifyTeams {
		known[t] = true
	}
	var kept []string
	for _, t := range teams {
		if known[t] {
			kept = append(kept, t)
		}
	}
	return kept
}
