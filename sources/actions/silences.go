package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"sitroom/model"
	"sitroom/sources/alertmanager"
)

// The silences view's actions: expire, extend and create Alertmanager
// silences, whoever made them. Like an ack they are checked against the
// role, written to the audit log and the outbox in one transaction, and
// delivered by the outbox worker; each delivery is idempotent, so a
// retry after a lost reply or a killed process changes nothing twice:
//
//   - an expiry goes to every Alertmanager holding the silence and ends
//     it there unless it already ended (the silence id is the same on
//     every member of a cluster);
//   - an extension goes to one member of the cluster holding the
//     silence (the next one when it does not answer): it posts the
//     silence with its id and the new end, which the Alertmanager turns
//     into a new silence with a new id when the silence is active; the
//     new silence carries a marker of the action in its comment, by which
//     a retry finds it;
//   - a new silence carries the marker of the action and alert in its
//     comment, as an ack's do; it is created on the first member that
//     answers, and on each further Alertmanager holding the alert unless
//     the silence reaches it by gossip within gossipWait (a clustered
//     peer) — so a pair gets one silence, two independent Alertmanagers
//     one each.

// gossipWait is how long a new silence made on one Alertmanager is
// waited for on the next before that one is taken for an independent
// Alertmanager and given its own. Clustered peers gossip within a
// fraction of a second.
var gossipWait = 2 * time.Second

// planSilence resolves what a silences-view request acts on from the
// silences recorded in the cache (the author, and every Alertmanager that
// holds the silence or the alert) and plans its deliveries. why is a
// refusal.
func (d *Dispatcher) planSilence(a *model.Action, req *model.ActionRequest) (msg, why string) {
	now := d.opt.Now()
	t := &req.Silence
	set := map[string]bool{}
	for _, s := range t.Sources {
		set[s] = true
	}
	if req.Verb == model.VerbCreateSilence {
		if len(req.AlertKeys) > 0 {
			rows, _, _ := d.cache.Load()
			for _, r := range rows {
				if !r.Resolved() && slices.Contains(req.AlertKeys, r.Key) {
					set[r.Source] = true
				}
			}
		}
	} else if b, err := d.Board(); err == nil {
		for _, s := range b.Silences {
			if s.ID != t.ID {
				continue
			}
			for _, src := range append([]string{s.Source}, s.Also...) {
				if src != "" {
					set[src] = true
				}
			}
			if s.CreatedBy != "" {
				t.CreatedBy = s.CreatedBy
			}
			if !s.EndsAt.IsZero() {
				t.EndsAt = s.EndsAt
			}
			if s.State == model.SilenceExpired && req.Verb == model.VerbExtendSilence {
				return "", "silence " + t.ID + " has expired: create a new one"
			}
		}
	}
	var ams []string
	for _, name := range model.SortedKeys(set) {
		if d.opt.Silencers[name] != nil {
			ams = append(ams, name)
		}
	}
	t.Sources = ams
	if len(ams) == 0 {
		if req.Verb == model.VerbCreateSilence {
			return "", "no configured Alertmanager holds the alert"
		}
		return "", "no configured Alertmanager holds silence " + t.ID
	}
	// The role check again, now that the author is the recorded one.
	if why := d.opt.Policy.Refusal(d.Operator(), *req); why != "" {
		return "", why
	}
	on := strings.Join(ams, ", ")
	switch req.Verb {
	case model.VerbExpireSilence:
		for _, am := range ams {
			a.Deliveries = append(a.Deliveries, model.Delivery{Kind: model.DeliverSilenceExpire, Dest: am, Key: t.ID})
		}
		return fmt.Sprintf("expiring silence %s on %s", shortID(t.ID), on), ""
	case model.VerbExtendSilence:
		base := t.EndsAt
		if base.Before(now) {
			base = now
		}
		a.Until = base.Add(req.Expiry)
		a.Deliveries = []model.Delivery{{Kind: model.DeliverSilenceExtend, Dest: strings.Join(ams, ","), Key: t.ID, Until: a.Until}}
		return fmt.Sprintf("extending silence %s to %s (+%s) on %s", shortID(t.ID), a.Until.Local().Format("15:04"),
			req.Expiry.Round(time.Minute), on), ""
	}
	a.Until = now.Add(req.Expiry)
	key := ""
	if len(req.AlertKeys) > 0 {
		key = req.AlertKeys[0]
	}
	payload, _ := json.Marshal(createPayload{Matchers: t.Matchers})
	a.Deliveries = []model.Delivery{{Kind: model.DeliverSilenceCreate, Dest: strings.Join(ams, ","), Key: key,
		Payload: string(payload), Until: a.Until}}
	return fmt.Sprintf("silence queued for %s until %s", on, a.Until.Local().Format("15:04")), ""
}

type createPayload struct {
	Matchers string `json:"matchers"`
}

// shortID is a silence id as the flash names it: its first 8 characters.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// deliverSilenceAction carries out one delivery of a silences-view
// action.
func (d *Dispatcher) deliverSilenceAction(ctx context.Context, dl model.Delivery) (string, error) {
	var members []string
	for _, name := range strings.Split(dl.Dest, ",") {
		if d.opt.Silencers[name] != nil {
			members = append(members, name)
		}
	}
	if len(members) == 0 {
		return "", deadErr{fmt.Errorf("%s: %w", dl.Dest, errNoDest)}
	}
	switch dl.Kind {
	case model.DeliverSilenceExpire:
		return expireSilence(ctx, d.opt.Silencers[members[0]], dl.Key)
	case model.DeliverSilenceExtend:
		return d.extendSilence(ctx, members, dl)
	}
	return d.createSilenceOn(ctx, members, dl)
}

// expireSilence ends silence id unless the Alertmanager no longer holds
// it live.
func expireSilence(ctx context.Context, s Silencer, id string) (string, error) {
	list, err := s.List(ctx)
	if err != nil {
		return "", err
	}
	for _, sil := range list {
		if sil.ID == id && sil.Live() {
			return id, s.Expire(ctx, id)
		}
	}
	return id, nil
}

// extendMarker is what an extension adds to the silence's comment.
func extendMarker(uid, id string) string { return "[sitroom action " + uid + " extend " + id + "]" }

// extendMarks are the markers of earlier extensions, replaced by the
// latest so a silence extended every shift keeps a short comment.
var extendMarks = regexp.MustCompile(`\s*\[sitroom action \S+ extend \S+\]`)

func (d *Dispatcher) extendSilence(ctx context.Context, members []string, dl model.Delivery) (string, error) {
	marker := extendMarker(dl.ActionUID, dl.Key)
	var lastErr error
	expired := false
	for _, name := range members {
		s := d.opt.Silencers[name]
		list, err := s.List(ctx)
		if err != nil {
			lastErr = err
			continue
		}
		var old *alertmanager.Silence
		for i := range list {
			if list[i].Live() && strings.Contains(list[i].Comment, marker) {
				return list[i].ID, nil // extended by an earlier attempt
			}
			if list[i].ID == dl.Key {
				old = &list[i]
			}
		}
		switch {
		case old == nil:
			continue // not on this member (yet): the next one
		case !old.Live():
			expired = true
			continue
		case !old.EndsAt.Before(dl.Until):
			return old.ID, nil // it already ends then or later
		}
		comment := strings.TrimSpace(extendMarks.ReplaceAllString(old.Comment, "")) + " " + marker
		id, err := s.Create(ctx, alertmanager.PostableSilence{ID: old.ID, Matchers: old.Matchers, StartsAt: old.StartsAt,
			EndsAt: dl.Until, CreatedBy: old.CreatedBy, Comment: comment})
		if err != nil {
			if permanent(err) {
				return "", err
			}
			lastErr = err
			continue
		}
		if id != old.ID {
			d.opt.Logger.Info("silence extended under a new id", "old", old.ID, "new", id, "source", name)
		}
		return id, nil
	}
	switch {
	case lastErr != nil:
		return "", lastErr
	case expired:
		return "", deadErr{fmt.Errorf("silence %s expired before it could be extended", dl.Key)}
	}
	return "", deadErr{fmt.Errorf("silence %s is on none of %s", dl.Key, strings.Join(members, ", "))}
}

// createMarker is the marker of a silence the silences view creates.
func createMarker(uid, key string) string {
	if key == "" {
		return "[sitroom action " + uid + " silence]"
	}
	return model.Marker(uid, key)
}

func (d *Dispatcher) createSilenceOn(ctx context.Context, members []string, dl model.Delivery) (string, error) {
	var p createPayload
	if err := json.Unmarshal([]byte(dl.Payload), &p); err != nil {
		return "", deadErr{fmt.Errorf("silence payload: %v", err)}
	}
	ms, err := model.ParseMatchers(p.Matchers)
	if err != nil {
		return "", deadErr{fmt.Errorf("silence matchers: %v", err)}
	}
	matchers := make([]alertmanager.SilenceMatcher, len(ms))
	for i, m := range ms {
		matchers[i] = alertmanager.SilenceMatcher{Name: m.Name, Value: m.Value,
			IsRegex: m.Op == model.MatchRegexp || m.Op == model.MatchNotRegexp,
			IsEqual: m.Op == model.MatchEqual || m.Op == model.MatchRegexp}
	}
	marker := createMarker(dl.ActionUID, dl.Key)
	var refs []string
	var lastErr error
	made := false // the silence exists on a member already
	for _, name := range members {
		s := d.opt.Silencers[name]
		id, err := findMarked(ctx, s, marker)
		if err != nil {
			lastErr = err
			continue
		}
		if id == "" && made {
			id = awaitGossip(ctx, s, marker)
		}
		if id != "" {
			made = true
			if !slices.Contains(refs, id) {
				refs = append(refs, id)
			}
			continue
		}
		now := d.opt.Now()
		if !dl.Until.After(now) {
			continue // it ran out before it could be made
		}
		id, err = s.Create(ctx, alertmanager.PostableSilence{Matchers: matchers, StartsAt: now, EndsAt: dl.Until,
			CreatedBy: dl.Operator, Comment: strings.TrimSpace(dl.Comment) + " " + marker})
		if err != nil {
			if permanent(err) {
				return strings.Join(refs, ","), err
			}
			lastErr = err
			continue
		}
		made = true
		refs = append(refs, id)
	}
	return strings.Join(refs, ","), lastErr
}

// findMarked returns the id of a live silence whose comment holds marker,
// or "".
func findMarked(ctx context.Context, s Silencer, marker string) (string, error) {
	list, err := s.List(ctx)
	if err != nil {
		return "", err
	}
	for _, sil := range list {
		if sil.Live() && strings.Contains(sil.Comment, marker) {
			return sil.ID, nil
		}
	}
	return "", nil
}

// awaitGossip waits up to gossipWait for a silence holding marker to
// reach s from a clustered peer; "" when it does not.
func awaitGossip(ctx context.Context, s Silencer, marker string) string {
	deadline := time.Now().Add(gossipWait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return ""
		case <-time.After(100 * time.Millisecond):
		}
		if id, err := findMarked(ctx, s, marker); err == nil && id != "" {
			return id
		}
	}
	return ""
}
