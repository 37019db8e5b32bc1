package model

import "sort"

// Acknowledgement is whether an outage is acknowledged, and by what. The
// one meaning of "acknowledged" (docs/handoff.md): an outage is
// acknowledged when a sitroom ack in force or an active upstream silence
// covers every one of its alerts (Outage.Keys). An alert only inhibited
// upstream is not covered: nobody took it on. `]`, `@acked`, the outage
// row and the handoff all read it from here.
type Acknowledgement struct {
	// Acked is set when every alert of the outage is covered.
	Acked bool
	// Alerts counts the outage's alerts; ByAck those sitroom's ack in
	// force covers; BySilence those of the rest an upstream silence
	// covers.
	Alerts, ByAck, BySilence int
	// Ack is sitroom's ack in force on the service, or nil.
	Ack *Ack
	// Silences are the ids of the upstream silences covering the alerts
	// the ack does not, sorted.
	Silences []string
}

// Covered counts the alerts covered by the ack or a silence.
func (a Acknowledgement) Covered() int { return a.ByAck + a.BySilence }

// AckView answers "is it acknowledged?" over one snapshot and one board.
// It is built in one pass over the snapshot's signals; the counts of a
// service without an outage are taken on first use, so a view is used
// from one goroutine (the UI's).
type AckView struct {
	board *Board
	snap  *Snapshot
	// silenced holds the silence ids of every signal silenced upstream,
	// by key.
	silenced map[string][]string
	// live counts, by service, the signals firing or suppressed, and
	// quiet those of them silenced upstream; nil until Service needs them.
	live, quiet map[string]int
}

// NewAckView indexes snap's silenced signals for the acks of b (either may
// be nil).
func NewAckView(s *Snapshot, b *Board) *AckView {
	v := &AckView{board: b, snap: s, silenced: map[string][]string{}}
	if s == nil {
		return v
	}
	for _, sig := range s.Signals {
		if silencedUpstream(sig) {
			v.silenced[sig.Key] = sig.SilencedBy()
		}
	}
	return v
}

// counts fills live and quiet on first use.
func (v *AckView) counts() {
	if v.live != nil {
		return
	}
	v.live, v.quiet = map[string]int{}, map[string]int{}
	if v.snap == nil {
		return
	}
	for _, sig := range v.snap.Signals {
		if sig.State != StateFiring && sig.State != StateSuppressed {
			continue
		}
		v.live[sig.Service]++
		if silencedUpstream(sig) {
			v.quiet[sig.Service]++
		}
	}
}

// ackCovers reports whether an ack covers the alert key: an ack naming no
// alerts covers its whole outage.
func ackCovers(a *Ack, key string) bool {
	if a == nil {
		return false
	}
	if len(a.AlertKeys) == 0 {
		return true
	}
	for _, k := range a.AlertKeys {
		if k == key {
			return true
		}
	}
	return false
}

// Outage is the outage's acknowledgement: by sitroom's ack in force, by
// upstream silences, both, or neither.
func (v *AckView) Outage(o *Outage) Acknowledgement {
	return Acknowledge(o.Keys, v.board.AckOf(o.Service), func(k string) []string { return v.silenced[k] })
}

// Acknowledge is the one meaning of "acknowledged" for the alerts keys of
// one outage, given sitroom's ack in force (nil when none) and the
// upstream silences silencing each alert: every key covered by the ack or
// a silence. AckView and the handoff both call it.
func Acknowledge(keys []string, ack *Ack, silencedBy func(key string) []string) Acknowledgement {
	r := Acknowledgement{Alerts: len(keys), Ack: ack}
	ids := map[string]bool{}
	for _, k := range keys {
		if ackCovers(ack, k) {
			r.ByAck++
			continue
		}
		if sils := silencedBy(k); len(sils) > 0 {
			r.BySilence++
			for _, id := range sils {
				ids[id] = true
			}
		}
	}
	r.Acked = r.Alerts > 0 && r.Covered() == r.Alerts
	if len(ids) > 0 {
		r.Silences = SortedKeys(ids)
	}
	return r
}

// Service reports whether the named service is acknowledged: its outage
// by Outage; a service without an outage when sitroom's ack is in force
// on it, or every one of its firing alerts is silenced upstream.
func (v *AckView) Service(name string) bool {
	if v.snap != nil {
		if o := v.snap.Outage(name); o != nil {
			return v.Outage(o).Acked
		}
	}
	if v.board.AckOf(name) != nil {
		return true
	}
	v.counts()
	n := v.live[name]
	return n > 0 && v.quiet[name] == n
}

// Signal reports whether one alert is acknowledged: sitroom's ack in force
// on its service covers it, or an upstream silence does.
func (v *AckView) Signal(s *Signal) bool {
	return ackCovers(v.board.AckOf(s.Service), s.Key) || silencedUpstream(s)
}

// silencedUpstream reports whether a silence keeps the signal quiet: it
// is suppressed (by every source that has it) and silenced, not only
// inhibited. A signal one source silences while another still fires it
// is firing, and not covered.
func silencedUpstream(s *Signal) bool {
	return s.State == StateSuppressed && len(s.SilencedBy()) > 0
}

// SilencesOf lists the silences the board knows among ids (those it does
// not know yet are left out), ending soonest first.
func (b *Board) SilencesOf(ids []string) []Silence {
	if b == nil {
		return nil
	}
	var out []Silence
	for _, id := range ids {
		if s, ok := b.Silences[id]; ok {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].EndsAt.Equal(out[j].EndsAt) {
			return out[i].EndsAt.Before(out[j].EndsAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
