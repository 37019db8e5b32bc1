package ui

import (
	"context"
	"time"

	"sitroom/model"
)

// RunbookRevisionFunc says what version control knows of the runbook
// file at path: its last commit, and whether the work tree has changes
// to it not committed. The zero revision and no error: nothing to say (no
// git, not in a work tree). The UI calls it on a worker goroutine, never
// on the UI goroutine; main wires it to the git command.
type RunbookRevisionFunc func(ctx context.Context, path string) (model.RunbookRevision, error)

// runbookRevTimeout bounds the wait for a runbook's revision.
const runbookRevTimeout = 10 * time.Second

// runRunbookRevision is the App's side of a local runbook opened: a
// worker asks for the file's revision and, when it answers, the
// runbook's page shows it at its top with one QueueUpdateDraw (if the page
// is still open, or when it is opened again through Esc).
func (a *App) runRunbookRevision(d *document, path string) {
	a.beginBusy()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), runbookRevTimeout)
		rev, err := a.opts.RunbookRevision(ctx, path)
		cancel()
		if err != nil {
			a.log.Warn("runbook revision", "path", path, "err", err)
		}
		a.app.QueueUpdateDraw(func() {
			if err == nil && rev.Known() {
				a.st.setRunbookRevision(d, rev)
			}
			a.endBusy()
		})
	}()
}

// runRunbookLoad is the App's side of a local runbook opened: a worker
// reads and lays it out, and its lines replace the page's "loading…" with
// one QueueUpdateDraw; a file that cannot be read says why on the page.
func (a *App) runRunbookLoad(d *document, path string, trusted bool) {
	load := a.st.runbookLoader()
	a.beginBusy()
	go func() {
		lines, err := load(path, trusted)
		a.app.QueueUpdateDraw(func() {
			if err != nil {
				lines = []docLine{{text: err.Error(), style: a.st.theme.ErrorText}}
				a.st.setFlash("o: " + err.Error())
			}
			d.setLines(lines)
			a.endBusy()
		})
	}()
}

// setRunbookRevision puts a runbook's revision at the top of its page:
// the last commit (short hash, author, date, subject) and, when the work
// tree holds changes to the file no commit has, "modified locally".
func (st *state) setRunbookRevision(d *document, rev model.RunbookRevision) {
	th := &st.theme
	var head []docLine
	if rev.Hash != "" {
		ss := []span{{text: "git ", st: th.Dim}, {text: Inert(rev.Hash), st: th.Title}}
		sep := span{text: " · ", st: th.Dim}
		if rev.Author != "" {
			ss = append(ss, sep, span{text: Inert(rev.Author), st: th.Base})
		}
		if !rev.Date.IsZero() {
			ss = append(ss, sep, span{text: rev.Date.UTC().Format("2006-01-02 15:04 UTC"), st: th.Base})
		}
		if rev.Subject != "" {
			ss = append(ss, sep, span{text: "“" + Inert(rev.Subject) + "”", st: th.Base})
		}
		head = append(head, docLine{spans: ss, style: th.Base})
	}
	switch {
	case rev.Modified:
		head = append(head, docLine{text: "modified locally: uncommitted changes to this file, not the reviewed text", style: th.Warn.Bold(true)})
	case rev.Untracked:
		head = append(head, docLine{text: "modified locally: this file was never committed", style: th.Warn.Bold(true)})
	}
	if len(head) == 0 {
		return
	}
	head = append(head, docLine{rule: true, style: th.Dim}, docLine{})
	d.setHead(head)
}
