package ui

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
)

// maxRunbookBytes bounds how much of a runbook file is read.
const maxRunbookBytes = 1 << 20

// runbookRef is where a runbook is: a local file, or a web URL.
type runbookRef struct {
	path string // a local markdown file
	url  string // a web page
}

var errNoRunbookDir = errors.New("no runbooks_dir configured for a local runbook")

// resolveRunbook finds the runbook ref names. trusted refs come from the
// config (the catalog's runbook, already made absolute) and may name any
// local file; untrusted ones (an alert's runbook_url) must stay inside
// the runbooks directory dir. A URL under urlBase (runbooks_url) names
// the same file in dir; other http(s) URLs stay URLs.
func resolveRunbook(ref, dir, urlBase string, trusted bool) (runbookRef, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return runbookRef{}, errors.New("no runbook")
	}
	rel, local := "", false
	switch {
	case urlBase != "" && strings.HasPrefix(ref, urlBase):
		rel, local = ref[len(urlBase):], true
		if i := strings.IndexAny(rel, "?#"); i >= 0 {
			rel = rel[:i]
		}
		trusted = false // whatever the URL says, it must stay in dir
	case strings.HasPrefix(ref, "file://"):
		rel, local = strings.TrimPrefix(ref, "file://"), true
	case strings.Contains(ref, "://"):
		low := strings.ToLower(ref)
		if !strings.HasPrefix(low, "http://") && !strings.HasPrefix(low, "https://") {
			return runbookRef{}, errors.New("not an http(s) URL or a file")
		}
		return runbookRef{url: ref}, nil
	default:
		rel, local = ref, true
	}
	if !local {
		return runbookRef{}, errors.New("no runbook")
	}
	if filepath.IsAbs(rel) && trusted {
		return runbookRef{path: filepath.Clean(rel)}, nil
	}
	if dir == "" {
		return runbookRef{}, errNoRunbookDir
	}
	p := rel
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	p = filepath.Clean(p)
	if !inside(dir, p) {
		return runbookRef{}, errors.New("the runbook is outside runbooks_dir")
	}
	return runbookRef{path: p}, nil
}

// inside reports whether p is dir or under it.
func inside(dir, p string) bool {
	r, err := filepath.Rel(filepath.Clean(dir), p)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}

// readRunbook reads a runbook file: a regular file (never a FIFO or a
// device, which could block the UI), at most maxRunbookBytes of it. For
// an untrusted ref, a symlink that leads out of dir is refused.
func readRunbook(p, dir string, trusted bool) (string, error) {
	if !trusted {
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return "", err
		}
		realDir, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return "", err
		}
		if !inside(realDir, real) {
			return "", errors.New("the runbook links outside runbooks_dir")
		}
		p = real
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRunbookBytes))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// runbookTarget is the runbook of the selection: the detail's alert, the
// selected alert (its runbook_url, else its outage's catalog runbook) or
// the selected outage (its catalog runbook, else the first of its alerts
// with a runbook_url). trusted is true for a catalog runbook.
func (st *state) runbookTarget() (ref, what string, trusted bool) {
	var sig *model.Signal
	switch {
	case st.mode == modeDetail && st.doc != nil && st.doc.sig != nil:
		sig = st.doc.sig
	case st.mode == modeMain && st.focus == PanelAlerts:
		sig = st.selectedSignal()
	case st.mode == modeMain && st.focus == PanelOutages:
		o := st.selectedOutage()
		if o == nil {
			return "", "", false
		}
		if o.Runbook != "" {
			return o.Runbook, o.Service, true
		}
		for _, k := range o.Keys {
			if s := st.v.signalByKey(k); s != nil && s.RunbookURL() != "" {
				return s.RunbookURL(), s.Name(), false
			}
		}
		return "", o.Service, false
	}
	if sig == nil {
		return "", "", false
	}
	if r := sig.RunbookURL(); r != "" {
		return r, sig.Name(), false
	}
	if st.snap != nil {
		if o := st.snap.Outage(sig.Service); o != nil && o.Runbook != "" {
			return o.Runbook, sig.Service, true
		}
	}
	return "", sig.Name(), false
}

func (st *state) runbookDisabled() string {
	ref, what, trusted := st.runbookTarget()
	if ref == "" {
		if what == "" {
			return "select an outage or alert"
		}
		return cellText(what) + " has no runbook"
	}
	if _, err := resolveRunbook(ref, st.runbooksDir, st.runbooksURL, trusted); err != nil {
		return err.Error()
	}
	return ""
}

// openRunbook shows the selection's runbook: a local markdown file
// rendered in the document view, or a web URL with the hint that `y`
// copies it. Esc returns to where it was opened from.
func (st *state) openRunbook() {
	ref, what, trusted := st.runbookTarget()
	rb, err := resolveRunbook(ref, st.runbooksDir, st.runbooksURL, trusted)
	if err != nil {
		st.setFlash("o: " + err.Error())
		return
	}
	th := &st.theme
	d := &document{back: st.doc, backOf: st.detailOf, backMode: st.mode}
	if rb.url != "" {
		d.title = "Runbook — " + cellText(what)
		d.url = rb.url
		d.add(docLine{text: "This runbook is a web page:", style: th.Base})
		d.blank()
		d.add(docLine{indent: 2, text: Inert(rb.url), style: linkStyle(th.Base.Underline(true), rb.url)})
		d.blank()
		d.add(docLine{text: "y copies the address to the terminal's clipboard (OSC 52: works through SSH and tmux).", style: th.Dim})
	} else {
		d.title = "Runbook " + cellText(filepath.Base(rb.path)) + " — " + cellText(what)
		if st.onRunbookLoad != nil {
			// read and laid out by a worker: a big runbook never holds
			// the screen
			d.add(docLine{text: "loading…", style: th.Dim})
			st.onRunbookLoad(d, rb.path, trusted)
		} else {
			lines, err := st.loadRunbook(rb.path, trusted)
			if err != nil {
				st.setFlash("o: " + err.Error())
				return
			}
			d.lines = lines
		}
		if st.onRunbookRev != nil {
			st.onRunbookRev(d, rb.path)
		}
	}
	st.detailOf = ""
	st.mode = modeDetail
	st.doc = d
}

// runbookLoader reads the local runbook at path and lays it out as lines,
// or says in words why it cannot. It touches no state: a worker runs it.
type runbookLoader func(path string, trusted bool) ([]docLine, error)

// runbookLoader returns the loader for st's runbooks directory, theme
// and terminal, taken now (on the UI goroutine).
func (st *state) runbookLoader() runbookLoader {
	dir, th, links := st.runbooksDir, st.theme, st.osc8Links()
	return func(path string, trusted bool) ([]docLine, error) {
		src, err := readRunbook(path, dir, trusted)
		if err != nil {
			return nil, fmt.Errorf("cannot read the runbook %s: %s", cellText(filepath.Base(path)), cellText(errText(err)))
		}
		var d document
		renderMarkdown(&d, src, &th, links)
		if len(src) >= maxRunbookBytes {
			d.blank()
			d.add(docLine{text: "(cut at 1 MiB)", style: th.Warn})
		}
		return d.lines, nil
	}
}

// loadRunbook reads and lays out a runbook on the calling goroutine.
func (st *state) loadRunbook(path string, trusted bool) ([]docLine, error) {
	return st.runbookLoader()(path, trusted)
}

// errText is an error without the path prefix os errors carry.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// linkStyle makes s an OSC 8 hyperlink to url when url is plain printable
// ASCII (tcell writes it inside an escape sequence, so nothing else may
// reach it).
func linkStyle(s tcell.Style, url string) tcell.Style {
	for i := 0; i < len(url); i++ {
		if url[i] <= ' ' || url[i] >= 0x7f {
			return s
		}
	}
	return s.Url(url)
}

func (st *state) copyURLDisabled() string {
	switch {
	case st.doc == nil || st.doc.url == "":
		return "no web address here"
	case st.scr == nil:
		return "no terminal to copy through"
	}
	return ""
}

// copyURL puts the runbook's address on the terminal's clipboard (OSC 52;
// tcell base64-encodes it).
func (st *state) copyURL() {
	st.scr.SetClipboard([]byte(st.doc.url))
	st.setFlash("sent the runbook address to the terminal clipboard (OSC 52)")
}

// sidewaysStep is how many columns Left and Right scroll code blocks.
const sidewaysStep = 8

func (st *state) sidewaysDisabled() string {
	if st.doc == nil || st.doc.wrapW == 0 || st.doc.codeW <= st.doc.wrapW && st.doc.hoff == 0 {
		return "no code block wider than the page"
	}
	return ""
}

// scrollDocSideways scrolls the page's code blocks (never its text, which
// wraps) by delta columns.
func (st *state) scrollDocSideways(delta int) {
	if st.doc != nil {
		st.doc.scrollSideways(delta)
	}
}
