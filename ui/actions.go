package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// Actor carries out what operators do; main wires the sources side's
// dispatcher to it. The UI never calls Do on its own goroutine: a key
// handler checks (Check does no I/O), opens a form, and on confirmation
// hands the request to a worker goroutine whose result comes back as a
// flash message.
type Actor interface {
	// Operator is who acts, with the role config gives them.
	Operator() model.Operator
	// Policy holds the escalation levels and the read-only switch.
	Policy() *model.Policy
	// Check says why the request would be refused, or "". No I/O.
	Check(req model.ActionRequest) string
	// Do records the request (audit log first, refusals too) and queues
	// what must reach an upstream. It may block on the cache.
	Do(ctx context.Context, req model.ActionRequest) (model.ActionResult, error)
	// Boards delivers the shared action state (acks, escalations, notes,
	// deliveries), latest wins.
	Boards() <-chan *model.Board
}

// form is the small form an action opens: its fields, what will happen,
// and, unless it is direct, a confirmation step.
type form struct {
	req     model.ActionRequest
	title   string
	fields  []formField
	focus   int
	summary []string // what will happen, shown on the form and again to confirm
	// live, when set, says what will happen from the fields as typed (an
	// ack's expiry) and the clock; it replaces summary.
	live func() []string
	// direct forms act on Enter: the form already says what will happen
	// (an ack or un-ack of one outage, a note). The others (escalations)
	// go through a confirmation step first.
	direct  bool
	send    string // what Enter does on a direct form, e.g. "acknowledge"
	confirm bool   // the confirmation step
	problem string // why Enter did not go on
}

// lines is what the form says will happen.
func (f *form) lines() []string {
	if f.live != nil {
		return f.live()
	}
	return f.summary
}

type formField struct {
	label string
	value string
}

// actionCols are the outage columns shown when the console is wired to
// an action log: the ack and the escalation level.
var actionCols = []column{
	{title: "ACK", min: 12, max: 30, alt: 8},  // "ACK 1/2 12m alice", or "ACK 1/2"
	{title: "LEVEL", min: 5, max: 28, alt: 5}, // "L2 service owner on-call", or "L2"
}

// setBoard swaps in new shared action state.
func (st *state) setBoard(b *model.Board) {
	if b != nil && b.Team.Refused != "" && (st.board == nil || b.Team.RefusedAt.After(st.board.Team.RefusedAt)) {
		// An action the team store refused when it was pushed (made
		// while the store was down): said once, as a refusal at the time
		// would have been.
		st.setFlash(cellText(b.Team.Refused))
	}
	st.board = b
	if st.filter.f.UsesAcks() {
		st.rebuild(st.selectedOutageService(), st.selectedSignalKey())
	}
	if st.mode == modeDetail || st.prevMode == modeDetail && st.mode == modeHelp {
		st.refreshDetail()
	}
}

// actionTarget is what an action on the current selection acts on: the
// selected outage (all its alerts), or on the alerts panel the selected
// alert.
func (st *state) actionTarget() (service string, keys []string, what string) {
	switch st.focus {
	case PanelOutages:
		if o := st.selectedOutage(); o != nil {
			return o.Service, o.Keys, fmt.Sprintf("outage %s (%s)", o.Service, model.Plural(len(o.Keys), "alert", "alerts"))
		}
	case PanelAlerts:
		if s := st.selectedSignal(); s != nil {
			return s.Service, []string{s.Key}, fmt.Sprintf("alert %s of %s", s.Name(), s.Service)
		}
	}
	return "", nil, ""
}

func (st *state) actDisabled() string {
	if st.actor == nil {
		return "no action log in this console"
	}
	if st.snap != nil && st.snap.Loading > 0 {
		return "loading the alerts: an outage's alerts may not all be shown yet"
	}
	if svc, _, _ := st.actionTarget(); svc == "" {
		return "select an outage or alert"
	}
	return ""
}

// refused shows why the actor refuses req and has the refusal audited.
func (st *state) refused(key string, req model.ActionRequest) bool {
	why := st.actor.Check(req)
	if why == "" {
		return false
	}
	st.setFlash(key + ": " + why)
	st.actQuietly(req)
	return true
}

// amsHolding names the Alertmanagers holding the given signals and
// counts the signals at least one of them holds: what an ack of them
// silences, from the snapshot (no I/O).
func (st *state) amsHolding(keys []string) (ams []string, held int) {
	if st.snap == nil {
		return nil, 0
	}
	isAM := map[string]bool{}
	for _, s := range st.snap.Sources {
		if s.Type == "alertmanager" {
			isAM[s.Name] = true
		}
	}
	set := map[string]bool{}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	for _, s := range st.snap.Signals {
		if !want[s.Key] {
			continue
		}
		in := false
		for _, src := range s.Sources {
			if isAM[src] {
				set[src], in = true, true
			}
		}
		if in {
			held++
		}
	}
	return model.SortedKeys(set), held
}

// defaultAckExpiry is the expiry an ack form starts with.
const defaultAckExpiry = "2h"

// parseExpiry reads an ack form's expiry: a positive Go duration.
func parseExpiry(s string) (time.Duration, bool) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	return d, err == nil && d > 0
}

// expiryProblem is what the form says of an expiry it cannot read.
const expiryProblem = "expiry: a duration such as 30m, 2h or 1h30m"

// spanText is an expiry as typed by a person: 2h, 1h30m, 45m, 1d2h.
func spanText(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d >= 24*time.Hour:
		t := fmt.Sprintf("%dd", int(d/(24*time.Hour)))
		if r := d % (24 * time.Hour); r >= time.Hour {
			t += fmt.Sprintf("%dh", int(r/time.Hour))
		}
		return t
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// ackLines is what an ack form says will happen, from its expiry as typed
// and the clock: which alerts are silenced in which Alertmanagers until
// when, or that the ack stays in sitroom.
func (st *state) ackLines(f *form, n int, ams []string, held int) []string {
	until := "until ? (" + expiryProblem + ")"
	if d, ok := parseExpiry(f.fields[1].value); ok {
		until = fmt.Sprintf("until %s (%s)", st.now().Add(d).Format("15:04"), spanText(d))
	}
	var out []string
	switch {
	case held == 0:
		out = append(out, "No Alertmanager alerts: acknowledged in sitroom only, "+until+".")
	case held >= n:
		out = append(out, fmt.Sprintf("Will silence %s in %s %s.", model.Plural(held, "alert", "alerts"), strings.Join(ams, ", "), until))
	default:
		// always plural: 0 < held < n, so n > 1
		out = append(out, fmt.Sprintf("Will silence %d of the %d alerts in %s %s.", held, n, strings.Join(ams, ", "), until))
		if n-held == 1 {
			out = append(out, "The other has no Alertmanager: acknowledged in sitroom only.")
		} else {
			// always plural: n-held > 1
			out = append(out, fmt.Sprintf("The other %d have no Alertmanager: acknowledged in sitroom only.", n-held))
		}
	}
	return append(out, fmt.Sprintf("Acknowledged as %s; the ack clears when the outage resolves.", st.actor.Operator().User))
}

// startAck opens the ack form: Enter with a comment acks, since the form
// says what will happen (one outage, or the alert selected).
func (st *state) startAck() {
	svc, keys, what := st.actionTarget()
	req := model.ActionRequest{Verb: model.VerbAck, Service: svc, AlertKeys: keys, Comment: "x"}
	if st.refused(st.keyOf("ack"), req) {
		return
	}
	if a := st.board.AckOf(svc); a != nil {
		// Ack only what the ack in force does not cover yet (an outage
		// acked alert by alert, or alerts that fired since).
		var rest []string
		for _, k := range keys {
			if !slices.Contains(a.AlertKeys, k) && len(a.AlertKeys) > 0 {
				rest = append(rest, k)
			}
		}
		if len(rest) == 0 {
			st.setFlash(fmt.Sprintf("%s: %s is already acknowledged by %s (%s un-acks)", st.keyOf("ack"), svc, a.By, st.keyOf("unack")))
			return
		}
		keys, req.AlertKeys = rest, rest
		what = "the " + model.Plural(len(rest), "unacknowledged alert", "unacknowledged alerts") + " of " + svc
	}
	req.Comment = ""
	f := &form{req: req, title: "Acknowledge " + what, direct: true, send: "acknowledge",
		fields: []formField{{label: "Comment"}, {label: "Expiry", value: defaultAckExpiry}}}
	ams, held := st.amsHolding(keys)
	f.live = func() []string { return st.ackLines(f, len(keys), ams, held) }
	st.openForm(f)
}

func (st *state) unackDisabled() string {
	if why := st.actDisabled(); why != "" {
		return why
	}
	svc, _, _ := st.actionTarget()
	if st.board.AckOf(svc) == nil && (st.board == nil || st.board.Lapsed[svc] == nil) {
		return svc + " is not acknowledged"
	}
	return ""
}

// startUnack opens the un-ack form: it says whose ack goes and which
// Alertmanagers' silences expire, and Enter does it (a reason is
// optional). Un-acking re-arms the outage's notifications, possibly under
// a colleague's ack, so a stray key alone does not.
func (st *state) startUnack() {
	svc, keys, _ := st.actionTarget()
	req := model.ActionRequest{Verb: model.VerbUnack, Service: svc}
	if st.refused(st.keyOf("unack"), req) {
		return
	}
	f := &form{req: req, title: "Un-acknowledge " + svc, direct: true, send: "un-acknowledge",
		fields: []formField{{label: "Reason"}}}
	now := st.now()
	if a := st.board.AckOf(svc); a != nil {
		// The ack's alerts: those it names, else the whole outage.
		if len(a.AlertKeys) > 0 {
			keys = a.AlertKeys
		} else if st.snap != nil && st.snap.Outage(svc) != nil {
			keys = st.snap.Outage(svc).Keys
		}
		f.summary = []string{fmt.Sprintf("Takes back %s's ack of %s (%s ago, until %s): %s", a.By, svc,
			compactDuration(now.Sub(a.At)), a.Until.Local().Format("15:04"), a.Comment)}
		if ams, _ := st.amsHolding(keys); len(ams) > 0 {
			f.summary = append(f.summary, fmt.Sprintf("Expires its silences in %s: their notifications resume.", strings.Join(ams, ", ")))
		} else {
			f.summary = append(f.summary, "Expires any silence it made upstream; the outage shows unacknowledged again.")
		}
	} else if st.board != nil && st.board.Lapsed[svc] != nil {
		l := st.board.Lapsed[svc]
		f.summary = []string{fmt.Sprintf("Clears %s's lapsed ack of %s (it ran out at %s).", l.By, svc, l.Until.Local().Format("15:04"))}
	}
	f.summary = append(f.summary, "The reason is optional; it goes to the audit log.")
	st.openForm(f)
}

func (st *state) startEscalate() {
	if st.focus == PanelBacklog {
		st.startTicketEscalate()
		return
	}
	svc, keys, _ := st.actionTarget()
	pol := st.actor.Policy()
	cur := st.board.LevelOf(svc)
	next := pol.NextLevel(cur)
	if next == nil {
		if len(pol.Levels) == 0 {
			st.setFlash(st.keyOf("escalate") + ": no escalation policy configured")
		} else {
			st.setFlash(fmt.Sprintf("%s: %s is already at the top level (%d)", st.keyOf("escalate"), svc, cur))
		}
		return
	}
	req := model.ActionRequest{Verb: model.VerbEscalate, Service: svc, AlertKeys: keys, Level: next.Level, Comment: "x"}
	if st.refused(st.keyOf("escalate"), req) {
		return
	}
	req.Comment = ""
	f := &form{req: req, title: fmt.Sprintf("Escalate %s to level %d", svc, next.Level), fields: []formField{{label: "Comment"}}}
	who := next.Who
	if next.Contact != "" {
		who += " (" + next.Contact + ")"
	}
	f.summary = []string{fmt.Sprintf("Moves %s from level %d to level %d: %s.", svc, cur, next.Level, who)}
	if o := st.snap.Outage(svc); o != nil && o.Impact != nil {
		var contacts []string
		for _, t := range o.Impact.Notify {
			contacts = append(contacts, t.Contacts...)
		}
		if len(contacts) > 0 {
			f.summary = append(f.summary, "Notify: "+strings.Join(contacts, ", "))
		}
	}
	st.openForm(f)
}

func (st *state) noteDisabled() string {
	if st.actor == nil {
		return "no action log in this console"
	}
	return ""
}

func (st *state) startNote() {
	svc := ""
	if st.focus == PanelOutages {
		svc = st.selectedOutageService()
	}
	req := model.ActionRequest{Verb: model.VerbNote, Service: svc, Comment: "x"}
	if st.refused(st.keyOf("note"), req) {
		return
	}
	req.Comment = ""
	title := "Note on the shift"
	if svc != "" {
		title = "Note on " + svc
	}
	st.openForm(&form{req: req, title: title, fields: []formField{{label: "Note"}}, direct: true, send: "save the note",
		summary: []string{"Kept for the handoff report; shown in the detail view."}})
}

// act hands a request to the App's worker; its result replaces the flash.
func (st *state) act(req model.ActionRequest) {
	if st.onAct != nil {
		st.onAct(req, false)
	}
}

// actQuietly hands over a request whose outcome the flash already says (a
// refusal, sent only to be audited); only a failure is shown.
func (st *state) actQuietly(req model.ActionRequest) {
	if st.onAct != nil {
		st.onAct(req, true)
	}
}

func (st *state) openForm(f *form) {
	st.form = f
	st.formPrev = st.mode
	st.mode = modeForm
}

func (st *state) closeForm() {
	st.form = nil
	st.mode = st.formPrev
}

// formBack leaves the confirmation step, or cancels the form.
func (st *state) formBack() {
	if st.form != nil && st.form.confirm {
		st.form.confirm = false
		return
	}
	st.closeForm()
	st.setFlash("cancelled")
}

func (st *state) formNextField() {
	if f := st.form; f != nil && !f.confirm {
		f.focus = (f.focus + 1) % len(f.fields)
	}
}

func (st *state) formType(r rune) {
	if f := st.form; f != nil && !f.confirm {
		fl := &f.fields[f.focus]
		if len(fl.value) < 2000 {
			fl.value += string(r)
		}
		f.problem = ""
	}
}

func (st *state) formBackspace() {
	if f := st.form; f != nil && !f.confirm {
		r := []rune(f.fields[f.focus].value)
		if len(r) > 0 {
			f.fields[f.focus].value = string(r[:len(r)-1])
		}
	}
}

func (st *state) formErase() {
	if f := st.form; f != nil && !f.confirm {
		f.fields[f.focus].value = ""
	}
}

// formEnter submits a direct form, or goes on to the confirmation and
// then submits. A missing comment or an unreadable expiry keeps the form
// open, saying so.
func (st *state) formEnter() {
	f := st.form
	if f == nil {
		return
	}
	if !f.confirm {
		f.req.Comment = strings.TrimSpace(f.fields[0].value)
		if why := f.req.Validate(); why != "" {
			f.problem = why
			f.focus = 0
			return
		}
		if f.req.Verb == model.VerbAck {
			d, ok := parseExpiry(f.fields[1].value)
			if !ok {
				f.problem = expiryProblem
				f.focus = 1
				return
			}
			f.req.Expiry = d
		}
		if f.req.Verb == model.VerbNotify && f.req.Notify != nil {
			if f.req.Comment == "" {
				f.problem = "the message is empty"
				return
			}
			m := *f.req.Notify
			m.Text = f.req.Comment
			f.req.Notify = &m
		}
		f.problem = ""
		if !f.direct {
			f.confirm = true
			return
		}
	}
	req := f.req
	st.closeForm()
	// The form's title names the target in words; req.Target() would
	// show an alert by its key.
	st.setFlash(f.title + ": recording…")
	st.act(req)
}

// ackMemo is the model.AckView of the snapshot and board on screen,
// built again only when either changes (not per frame).
type ackMemo struct {
	snap  *model.Snapshot
	board *model.Board
	view  *model.AckView
}

// acks answers "is it acknowledged?" (the one meaning, model.Acknowledge)
// for what is on screen.
func (st *state) acks() *model.AckView {
	m := &st.ackMemo
	if m.view == nil || m.snap != st.snap || m.board != st.board {
		*m = ackMemo{snap: st.snap, board: st.board, view: model.NewAckView(st.snap, st.board)}
	}
	return m.view
}

// ackText is the ack cell of an outage row: who acked and how long ago
// (how much of it, when the ack covers only some alerts), an ack that
// ended upstream or lapsed, upstream silences covering it, an overdue
// unacknowledged outage, and deliveries not yet done.
func (st *state) ackText(o *model.Outage) (string, tcell.Style) {
	th := &st.theme
	now := st.now()
	b := st.board
	ack := st.acks().Outage(o)
	// alts are the cell's forms, whole first, each shorter one drawn
	// where the longer does not fit (altSep): "ACK 1/2" rather than a
	// clipped "ACK 1/2 1s ro…".
	var alts []string
	style := th.Base
	switch a := ack.Ack; {
	case a != nil:
		head := "ACK"
		style = th.Dim
		if !ack.Acked {
			// Only some of the outage's alerts are acked (an ack from the
			// alerts panel, or alerts that fired after the ack).
			head = fmt.Sprintf("ACK %d/%d", ack.Covered(), ack.Alerts)
			style = th.Warn
		}
		age := compactDuration(now.Sub(a.At))
		alts = []string{head + " " + age + " " + cellText(a.By), head + " " + age, head}
	case ack.Acked:
		// Acknowledged upstream: silenced in Alertmanager by someone.
		alts = []string{"SILENCED"}
		if who := silenceAuthors(b, ack.Silences); who != "" {
			alts = []string{"SILENCED " + cellText(who), "SILENCED"}
		}
		style = th.Dim
	case b.EndedOf(o.Service, o.Since) != nil:
		// The upstream ended the ack: the outage pages again.
		alts = []string{"ACK ENDED upstream", "ENDED upstream", "ENDED"}
		style = th.Crit.Bold(true)
	case b != nil && b.Lapsed[o.Service] != nil:
		alts = []string{"ACK LAPSED " + cellText(b.Lapsed[o.Service].By), "ACK LAPSED", "LAPSED"}
		style = th.Crit.Bold(true)
	case ack.BySilence > 0:
		alts = []string{fmt.Sprintf("SILENCED %d/%d", ack.BySilence, ack.Alerts)}
		style = th.Warn
	case st.actor != nil && st.actor.Policy().Overdue(o.Since, now, false):
		alts = []string{"UNACKED " + compactDuration(now.Sub(o.Since)), "UNACKED"}
		style = th.Crit.Bold(true).Reverse(true)
	default:
		alts = []string{"—"}
	}
	suffix := ""
	if b != nil {
		if d := b.Deliveries[o.Service]; d.Failed > 0 {
			suffix = fmt.Sprintf(" · %d FAILED", d.Failed)
			style = th.Crit
		} else if d.Pending > 0 {
			suffix = fmt.Sprintf(" · %d pending", d.Pending)
			if style == th.Dim {
				style = th.Warn
			}
		}
	}
	if u := st.untoldText(o); u != "" {
		// Some team the outage affects was not told in time: said before
		// the ack state, which it outranks.
		for i := range alts {
			alts[i] = u + " " + alts[i]
		}
		alts = append(alts, u)
		style = th.Crit.Bold(true)
	}
	for i := range alts {
		alts[i] += suffix
	}
	return strings.Join(alts, altSep), style
}

// silenceAuthors names who made the silences ids: the authors the board
// knows, first the silence ending soonest, "" when none is known yet.
func silenceAuthors(b *model.Board, ids []string) string {
	var who []string
	for _, s := range b.SilencesOf(ids) {
		if s.CreatedBy != "" && !slices.Contains(who, s.CreatedBy) {
			who = append(who, s.CreatedBy)
		}
	}
	return strings.Join(who, ", ")
}

func (st *state) levelText(o *model.Outage) string {
	lvl := st.board.LevelOf(o.Service)
	t := fmt.Sprintf("L%d", lvl)
	if st.actor != nil {
		if l := st.actor.Policy().Level(lvl); l != nil && l.Who != "" {
			t += " " + l.Who + altSep + t // "L2" where the name does not fit
		}
	}
	return t
}

// outageActionCell is the text of an action column (0 ack, 1 level).
func (st *state) outageActionCell(o *model.Outage, col int) (string, tcell.Style) {
	if col == 0 {
		return st.ackText(o)
	}
	return st.levelText(o), st.theme.Base
}

// appendActions adds the service's ack, escalation, contacts and notes to
// a detail document.
func (st *state) appendActions(d *document, sig *model.Signal) {
	if st.board == nil && st.actor == nil {
		return
	}
	th := &st.theme
	now := st.now()
	svc := sig.Service
	field := func(label, text string, style tcell.Style) {
		d.add(docLine{label: label, labelW: detailLabelW, text: text, lstyle: th.Title, style: style})
	}
	d.blank()
	d.heading("Actions on "+Inert(svc), th.Title)
	o := st.snap.Outage(svc)
	var ack model.Acknowledgement
	var since time.Time
	if o != nil {
		ack, since = st.acks().Outage(o), o.Since
	} else {
		ack.Ack = st.board.AckOf(svc)
		if st.acks().Signal(sig) && ack.Ack == nil {
			ack.Silences = sig.SilencedBy()
		}
	}
	if a := ack.Ack; a != nil {
		field("Acked", fmt.Sprintf("by %s %s ago until %s: %s", Inert(a.By), compactDuration(now.Sub(a.At)),
			a.Until.Local().Format("15:04"), Inert(a.Comment)), th.Base)
	} else if e := st.board.EndedOf(svc, since); e != nil {
		field("Ack ended", fmt.Sprintf("ACK ENDED upstream: %s (ack by %s at %s, ended %s)", Inert(e.Ended), Inert(e.By),
			e.At.Local().Format("15:04"), e.EndedAt.Local().Format("15:04")), th.Crit)
	} else if st.board != nil && st.board.Lapsed[svc] != nil {
		a := st.board.Lapsed[svc]
		field("Ack lapsed", fmt.Sprintf("by %s at %s: the outage is open again", Inert(a.By), a.Until.Local().Format("15:04")), th.Crit)
	} else if len(ack.Silences) == 0 {
		field("Acked", "no", th.Base)
	}
	if len(ack.Silences) > 0 {
		covers := "acknowledged upstream"
		if o != nil && !ack.Acked {
			covers = fmt.Sprintf("%d of %s", ack.BySilence, model.Plural(ack.Alerts, "alert", "alerts"))
		}
		label := "Silenced"
		known := st.board.SilencesOf(ack.Silences)
		if len(known) == 0 {
			field(label, covers+" by "+model.Plural(len(ack.Silences), "silence", "silences")+" (author not read yet)", th.Base)
		}
		for _, s := range known {
			field(label, fmt.Sprintf("%s by %s, %s–%s: %s", covers, Inert(s.CreatedBy), s.StartsAt.Local().Format("15:04"),
				s.EndsAt.Local().Format("15:04"), Inert(s.Comment)), th.Base)
			label = ""
		}
	}
	lvl := st.board.LevelOf(svc)
	lt := fmt.Sprintf("level %d", lvl)
	if st.actor != nil {
		if l := st.actor.Policy().Level(lvl); l != nil {
			lt += ": " + Inert(l.Who)
			if l.Contact != "" {
				lt += " (" + Inert(l.Contact) + ")"
			}
		}
	}
	if st.board != nil {
		if e := st.board.Escalations[svc]; e != nil {
			lt += fmt.Sprintf(" — by %s %s ago: %s", Inert(e.By), compactDuration(now.Sub(e.At)), Inert(e.Comment))
		}
	}
	field("Escalation", lt, th.Base)
	if st.board != nil {
		if dl := st.board.Deliveries[svc]; dl.Pending+dl.Failed > 0 {
			field("Upstream", fmt.Sprintf("%d pending, %d failed: %s", dl.Pending, dl.Failed, Inert(dl.Error)), th.Warn)
		}
	}
	if o := st.snap.Outage(svc); o != nil && o.Impact != nil {
		var contacts []string
		for _, t := range o.Impact.Notify {
			contacts = append(contacts, t.Contacts...)
		}
		if len(contacts) > 0 {
			field("Notify", inertJoin(contacts), th.Base)
		}
	}
	notes := st.board.NotesOf(svc)
	for i, n := range notes {
		label := ""
		if i == 0 {
			label = "Notes"
		}
		field(label, fmt.Sprintf("%s %s: %s", n.At.Local().Format("15:04"), Inert(n.By), Inert(n.Text)), th.Base)
	}
}

// drawForm paints the open form in a box over the panels. A field's value
// is made inert before its end is cut to fit, so the cut counts what is
// drawn.
func (st *state) drawForm(p *painter, x, y, w, h int) {
	f := st.form
	if f == nil {
		return
	}
	th := &st.theme
	bw := min(w, 100)
	// What will happen, wrapped to the box: it must be read whole.
	var summary []string
	for _, s := range f.lines() {
		summary = append(summary, wordWrap(Inert(s), max(bw-2, 1))...)
	}
	// the summary, a blank line, the fields, a blank line, the hint
	lines := len(summary) + len(f.fields) + 3
	bh := min(h, lines+2)
	bx := x + (w-bw)/2
	by := y + max((h-bh)/2, 0)
	for yy := by; yy < by+bh; yy++ {
		p.text(bx, yy, bw, strings.Repeat(" ", bw), th.Base)
	}
	ix, iy, iw, ih := drawBox(p, th, bx, by, bw, bh, f.title, true)
	if iw <= 0 || ih <= 0 {
		return
	}
	row := iy
	put := func(text string, style tcell.Style) {
		if row < iy+ih {
			p.text(ix, row, iw, text, style)
			row++
		}
	}
	for _, s := range summary {
		put(s, th.Base)
	}
	row++
	for i, fl := range f.fields {
		label := fmt.Sprintf("%-8s ", fl.label+":")
		style := th.Base
		text := Inert(fl.value)
		if i == f.focus && !f.confirm {
			style = th.Base.Underline(true)
			text += "▏"
		}
		if row < iy+ih {
			lw := p.text(ix, row, iw, label, th.Title)
			// show the end of a long value
			vw := iw - lw
			r := []rune(text)
			if vw > 0 && len(r) > vw {
				text = string(r[len(r)-vw:])
			}
			p.text(ix+lw, row, vw, text, style)
			row++
		}
	}
	row++
	switch {
	case f.problem != "":
		put(f.problem, th.ErrorText)
	case f.confirm:
		put("Confirm: Enter does it · Esc goes back", th.Crit.Bold(true))
	default:
		enter := "Enter: review"
		if f.direct {
			enter = "Enter: " + f.send
		}
		if len(f.fields) > 1 {
			enter += " · Tab: next field"
		}
		put(enter+" · Esc: cancel", th.Dim)
	}
}

// runAction is the App's side of a confirmed request: a worker calls the
// actor off the UI goroutine and the result comes back as a flash message.
func (a *App) runAction(req model.ActionRequest, quiet bool) {
	if a.opts.Actor == nil {
		return
	}
	a.beginBusy()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		res, err := a.opts.Actor.Do(ctx, req)
		cancel()
		msg := res.Message
		if quiet {
			msg = ""
		}
		if err != nil {
			a.log.Error("action", "verb", req.Verb, "target", req.Target(), "err", err)
			msg = string(req.Verb) + " failed: " + err.Error()
		}
		a.app.QueueUpdateDraw(func() {
			if msg != "" {
				st := a.st
				st.setFlash(msg)
			}
			a.endBusy()
		})
	}()
}

// boardLoop swaps each new action board in with one QueueUpdateDraw.
func (a *App) boardLoop() {
	defer a.wg.Done()
	if a.opts.Actor == nil {
		<-a.quit
		return
	}
	ch := a.opts.Actor.Boards()
	for {
		select {
		case <-a.quit:
			return
		case b, ok := <-ch:
			if !ok {
				<-a.quit
				return
			}
			a.beginBusy()
			a.app.QueueUpdateDraw(func() { a.st.setBoard(b) })
			a.endBusy()
		}
	}
}

// actionAt is where the action columns go among the outage columns:
// after the severity, service, duration and stale marker, so a narrow
// panel keeps them.
const actionAt = 4

// outageColumns are the outage table's columns when the console is wired
// to an action log (the ack and level columns after the duration), or nil
// without one.
func (st *state) outageColumns(p *painter) ([]column, []int) {
	if st.actor == nil && st.board == nil {
		return nil, nil
	}
	cols := append(append(append([]column(nil), outageCols[:actionAt]...), actionCols...), outageCols[actionAt:]...)
	nat := append([]int(nil), st.v.outNat[:actionAt]...)
	for i, c := range actionCols {
		n := len(c.title) // the widest cell, not the minimum: "—" needs no 12 cells
		var fits []int
		for _, o := range st.v.outs {
			t, _ := st.outageActionCell(o, i)
			tw := p.width(wholeText(t))
			n = max(n, min(tw, c.max))
			if c.alt > 0 {
				fits = append(fits, tw)
			}
		}
		cols[actionAt+i].fits = fits
		nat = append(nat, n)
	}
	nat = append(nat, st.v.outNat[actionAt:]...)
	return cols, nat
}
