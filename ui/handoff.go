package ui

import (
	"context"
	"strings"
	"time"

	"sitroom/model"
)

// HandoffSource builds the shift handoff report of the current shift (with
// its timeline) from stored history. The UI calls it on a worker
// goroutine, never on the UI goroutine; main wires it to the cache.
type HandoffSource interface {
	Handoff(ctx context.Context) (*model.Handoff, error)
}

func (st *state) handoffDisabled() string {
	if st.onHandoff == nil {
		return "no history to report from"
	}
	return ""
}

// openHandoff asks for the report; it opens when the worker returns.
func (st *state) openHandoff() {
	st.setFlash("building the shift handoff report…")
	st.onHandoff()
}

// showHandoff opens the report and its timeline as a scrollable page (the
// detail view's keys scroll it and Esc closes it).
func (st *state) showHandoff(r *model.Handoff) {
	th := st.theme
	d := &document{title: "Shift handoff · " + r.Window.Label}
	for _, part := range []string{r.Markdown(), r.TimelineMarkdown()} {
		for _, l := range strings.Split(strings.TrimRight(part, "\n"), "\n") {
			switch {
			case strings.HasPrefix(l, "#"):
				d.heading(Inert(strings.TrimLeft(l, "# ")), th.Title)
			default:
				d.add(docLine{text: Inert(l), style: th.Base})
			}
		}
		d.blank()
	}
	if st.mode != modeDetail {
		st.prevMode = st.mode
	}
	st.mode, st.doc, st.detailOf = modeDetail, d, ""
	st.flash = ""
}

// runHandoff is the App's side of `h`: a worker builds the report off the
// UI goroutine and it opens with one QueueUpdateDraw.
func (a *App) runHandoff() {
	a.beginBusy()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		r, err := a.opts.Handoff.Handoff(ctx)
		cancel()
		if err != nil {
			a.log.Error("handoff report", "err", err)
		}
		a.app.QueueUpdateDraw(func() {
			if err != nil {
				a.st.setFlash("handoff report failed: " + err.Error())
			} else {
				a.st.showHandoff(r)
			}
			a.endBusy()
		})
	}()
}
