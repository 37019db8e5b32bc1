package runbooks

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"sitroom/model"
)

// Problem is a catalog runbook `sitroom check` reports: missing,
// unreadable, or not what a commit says.
type Problem struct {
	Path     string   // the local file
	Services []string // the services whose runbook it is, in catalog order
	What     string   // "missing", "unreadable: …", "modified locally: …", …
}

// Local is the local file a catalog runbook ref names, as the runbook
// view opens it: a path (the config made it absolute), a file:// URL, or
// an address under urlBase (runbooks_url), which names the same file in
// dir (runbooks_dir). ok is false for a web page and for an address
// under urlBase when there is no dir.
func Local(ref, dir, urlBase string) (path string, ok bool) {
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "":
		return "", false
	case urlBase != "" && strings.HasPrefix(ref, urlBase):
		if dir == "" {
			return "", false
		}
		rel := ref[len(urlBase):]
		if i := strings.IndexAny(rel, "?#"); i >= 0 {
			rel = rel[:i]
		}
		p := filepath.Join(dir, rel)
		if r, err := filepath.Rel(dir, p); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return "", false // the view refuses it too
		}
		return p, true
	case strings.HasPrefix(ref, "file://"):
		return filepath.Clean(strings.TrimPrefix(ref, "file://")), true
	case strings.Contains(ref, "://"):
		return "", false
	case filepath.IsAbs(ref):
		return filepath.Clean(ref), true
	case dir != "":
		return filepath.Join(dir, ref), true
	}
	return "", false
}

// checkWorkers bounds the git commands Check runs at once.
const checkWorkers = 4

// Check looks at every local runbook of the catalog's services (each file
// once) and returns those that are missing, unreadable, modified locally
// (uncommitted changes: an unaudited edit) or never committed, in catalog
// order; and how many local runbooks it looked at. Web runbooks are not
// fetched. A git that fails is reported too; no git reports nothing of
// version control.
func Check(ctx context.Context, services []*model.Service, dir, urlBase string) (problems []Problem, local int) {
	var files []*Problem
	byPath := map[string]*Problem{}
	for _, s := range services {
		p, ok := Local(s.Runbook, dir, urlBase)
		if !ok {
			continue
		}
		if f := byPath[p]; f != nil {
			f.Services = append(f.Services, s.Name)
			continue
		}
		f := &Problem{Path: p, Services: []string{s.Name}}
		byPath[p] = f
		files = append(files, f)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, checkWorkers)
	for _, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f.What = problemOf(ctx, f.Path)
		}()
	}
	wg.Wait()
	for _, f := range files {
		if f.What != "" {
			problems = append(problems, *f)
		}
	}
	return problems, len(files)
}

// problemOf is what is wrong with the runbook at path, or "".
func problemOf(ctx context.Context, path string) string {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "missing"
	case err != nil:
		return "unreadable: " + errText(err)
	case !fi.Mode().IsRegular():
		if fi.IsDir() {
			return "unreadable: a directory, not a file"
		}
		return "unreadable: not a regular file"
	}
	f, err := os.Open(path)
	if err != nil {
		return "unreadable: " + errText(err)
	}
	f.Close()
	rev, err := Revision(ctx, path)
	switch {
	case err != nil:
		return "version control: " + err.Error()
	case rev.Modified:
		return "modified locally: uncommitted changes since " + rev.Hash
	case rev.Untracked:
		return "modified locally: never committed"
	}
	return ""
}

// errText is an error without the path os errors carry.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
