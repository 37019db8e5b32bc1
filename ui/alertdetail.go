package ui

import (
	"context"
	"fmt"
	"time"

	"sitroom/model"
)

// AlertDetailer reads what a snapshot does not hold of an alert for its
// detail view: its full annotations, as the named sources hold it (a
// snapshot keeps only the summary and the runbook the panels and keys
// read). The UI calls it on a worker goroutine, never on the UI
// goroutine; main wires it to the cache. An empty set and no error: the
// cache has no row of it (a signal sitroom made itself).
type AlertDetailer interface {
	AlertAnnotations(ctx context.Context, key string, sources []string) (model.Labels, error)
}

// alertDetailTimeout bounds the wait for an alert's annotations.
const alertDetailTimeout = 10 * time.Second

// detailAnnotations is the full annotations of the alert whose detail is
// open, read by a worker: loading until it answers.
type detailAnnotations struct {
	key     string
	loading bool
	l       model.Labels
	err     error
}

// runAlertDetail is the App's side of an alert's detail opened: a worker
// reads its annotations and the detail shows them, in place of its
// "loading…", with one QueueUpdateDraw.
func (a *App) runAlertDetail(key string, sources []string) {
	a.beginBusy()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), alertDetailTimeout)
		l, err := a.opts.AlertDetail.AlertAnnotations(ctx, key, sources)
		cancel()
		if err != nil {
			a.log.Warn("alert detail", "key", key, "err", err)
		}
		a.app.QueueUpdateDraw(func() {
			a.st.setDetailAnnotations(key, l, err)
			a.endBusy()
		})
	}()
}

// setDetailAnnotations takes a worker's answer for the alert key and
// redraws its detail if it is the page shown.
func (st *state) setDetailAnnotations(key string, l model.Labels, err error) {
	if st.detailAnn.key != key || !st.detailAnn.loading {
		return // another alert's detail opened meanwhile
	}
	st.detailAnn = detailAnnotations{key: key, l: l, err: err}
	d := st.doc
	if st.mode != modeDetail || d == nil || d.sig == nil || d.sig.Key != key {
		return // shown when the detail is drawn again
	}
	if st.detailOf == key {
		st.refreshDetail()
		return
	}
	// An inhibitor's page opened from a detail: rebuilt in place.
	nd := st.buildDetail(d.sig, false)
	nd.back, nd.backOf, nd.backMode, nd.offset = d.back, d.backOf, d.backMode, d.offset
	st.doc = nd
}

// annotationSection lays out the alert's annotations in its detail: read
// from the cache by a worker (loading… until then, or why they cannot be
// read) when an AlertDetailer is wired, else as the snapshot holds them.
func (st *state) annotationSection(d *document, s *model.Signal) {
	th := &st.theme
	show := s.Annotations
	if st.onAlertDetail != nil {
		da := &st.detailAnn
		if da.key != s.Key {
			*da = detailAnnotations{key: s.Key, loading: true}
			st.onAlertDetail(s.Key, s.Sources)
		}
		switch {
		case da.loading:
			d.heading("Annotations", th.Title)
			d.add(docLine{indent: 2, text: "loading…", style: th.Dim})
			return
		case da.err != nil:
			d.heading("Annotations", th.Title)
			d.add(docLine{indent: 2, text: "cannot read them: " + inertN(da.err.Error(), maxDetailBytes), style: th.ErrorText})
			return
		case da.l.Len() >= show.Len():
			show = da.l
		}
	}
	kvSection(d, th, fmt.Sprintf("Annotations (%d)", show.Len()), show)
}
