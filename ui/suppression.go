package ui

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// The three ways an alert stops paging, as the detail view tells them
// apart: silenced (by whom, why, until when), inhibited (by which alert)
// and acknowledged here (an ack is itself a set of silences; the outage
// row's ack column shows it). Sources that disagree are named.

// suppressionLines adds the detail view's lines on how the signal is
// silenced or inhibited upstream, and which source still pages it when
// the sources disagree.
func (st *state) suppressionLines(d *document, s *model.Signal) {
	th := &st.theme
	field := func(label, text string, style tcell.Style) {
		d.add(docLine{label: label, labelW: detailLabelW, text: text, lstyle: th.Title, style: style})
	}
	if s.Disputed() {
		what, n := "silenced", s.SilencedIn
		if n == 0 {
			what, n = "inhibited", s.InhibitedIn
		}
		field("Still paging", "from "+inertJoin(s.Paging())+": "+what+" on "+strconv.Itoa(int(n))+" of its "+
			model.Plural(int(s.Voters), "Alertmanager", "Alertmanagers")+" only, so it counts as firing", th.Warn)
	}
	if len(s.SilencedBy()) == 0 {
		field("Silenced by", "—", th.Base)
	}
	// The same silence made on each Alertmanager of a pair that does not
	// share them reads as one line with its ids.
	var texts []string
	where := map[string][]string{}
	for _, id := range s.SilencedBy() {
		t, at := st.silenceText(id)
		if _, ok := where[t]; !ok {
			texts = append(texts, t)
		}
		where[t] = append(where[t], at)
	}
	for i, t := range texts {
		label := ""
		if i == 0 {
			label = "Silenced by"
		}
		field(label, t+" · "+strings.Join(where[t], ", "), th.Base)
	}
	if len(s.InhibitedBy()) == 0 {
		field("Inhibited by", "—", th.Base)
		return
	}
	inhibitors := st.snap.InhibitorsOf(s)
	for i, by := range inhibitors {
		label := ""
		if i == 0 {
			label = "Inhibited by"
		}
		state := stateText(by.State)
		if ruleInDoubt(by) {
			state += "?" // its rule fails upstream: frozen as last evaluated
		}
		text := inhibitorName(s, by) + "  (" + Inert(by.Service) + ", " + state + ")"
		if i == 0 {
			if k := st.detailKeyOf("inhibitor"); k != "" {
				text += "  " + k + ": open it"
			}
		}
		field(label, text, th.Base)
	}
	if len(inhibitors) == 0 {
		field("Inhibited by", model.Plural(len(s.InhibitedBy()), "alert", "alerts")+" no longer open here (fingerprint "+
			inertJoin(s.InhibitedBy())+")", th.Dim)
	}
}

// silenceText describes one upstream silence by id: its author, end and
// comment when the board has read it (else that they are not known yet),
// and where it is: its id and Alertmanager.
func (st *state) silenceText(id string) (text, at string) {
	sil, ok := model.Silence{}, false
	if st.board != nil {
		sil, ok = st.board.Silences[id]
	}
	if !ok {
		return "author and comment not read yet", Inert(id)
	}
	at = Inert(id)
	if sil.Source != "" {
		at += " on " + Inert(sil.Source)
	}
	var b strings.Builder
	b.WriteString(orDash(Inert(sil.CreatedBy)))
	if !sil.EndsAt.IsZero() {
		left := sil.EndsAt.Sub(st.now())
		layout := "15:04"
		if left > 20*time.Hour || left < 0 {
			layout = "2006-01-02 15:04" // not today's 15:04
		}
		b.WriteString(" until " + sil.EndsAt.Local().Format(layout))
		if left > 0 {
			b.WriteString(" (in " + compactDuration(left) + ")")
		}
	}
	if sil.Comment != "" {
		b.WriteString(": " + Inert(sil.Comment))
	}
	return b.String(), at
}

// inhibitorName names the alert inhibiting s as an operator says it: its
// alertname and the values of the labels the two share (the ones an
// inhibit rule's equal list compares), "NodeDown n1". Severity and
// alertname are left out; at most three values are named.
func inhibitorName(s, by *model.Signal) string {
	var names []string
	for k, v := range by.Labels.All() {
		if k == "alertname" || k == "severity" || v == "" || s.Labels.Get(k) != v {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	parts := []string{Inert(by.Name())}
	for _, k := range names {
		if len(parts) > 3 {
			break
		}
		parts = append(parts, Inert(by.Labels.Get(k)))
	}
	return strings.Join(parts, " ")
}

// inhibitorDisabled says why the detail view cannot open the alert
// inhibiting the one shown.
func (st *state) inhibitorDisabled() string {
	if st.mode != modeDetail || st.doc == nil || st.doc.sig == nil {
		return "no alert open"
	}
	if len(st.snap.InhibitorsOf(st.doc.sig)) == 0 {
		return "not inhibited by an open alert"
	}
	return ""
}

// openInhibitor opens the detail of the alert inhibiting the one shown;
// back returns to it.
func (st *state) openInhibitor() {
	if st.inhibitorDisabled() != "" {
		return
	}
	d := st.buildDetail(st.snap.InhibitorsOf(st.doc.sig)[0], false)
	d.back, d.backOf, d.backMode = st.doc, st.detailOf, modeDetail
	st.doc, st.detailOf = d, ""
}

// detailKeyOf is how the key of a detail view's action is shown, or ""
// when it has none.
func (st *state) detailKeyOf(action string) string {
	for i := range st.bindings {
		if b := &st.bindings[i]; b.Scope == ScopeDetail && b.Action == action {
			return b.Keys
		}
	}
	return ""
}

// ackedAlert reports whether a sitroom ack in force on the signal's
// service covers it (its silences are sitroom's own): its row says ACK.
func ackedAlert(b *model.Board, s *model.Signal) bool {
	a := b.AckOf(s.Service)
	return a != nil && !a.External && s.State == model.StateSuppressed && slices.Contains(a.AlertKeys, s.Key)
}
