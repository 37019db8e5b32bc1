// Package runbooks reads what version control says of the team's
// markdown runbooks: the last commit of a runbook file and whether its
// work tree holds uncommitted changes to it (Revision), and the problems
// `sitroom check` lists for the catalog's runbooks (Check).
//
// It runs the git command rather than linking a git library: git is on
// every host that keeps a checkout of the runbooks, it reads every
// repository format and configuration a team may use, and it costs the
// binary nothing. Without git there is nothing to say and no error.
// Every git run has a timeout, runs in the file's directory (-C), never
// pages, never takes an optional lock (so it writes nothing to the
// repository), treats the file name as a literal path, and runs without
// any GIT_* variable of the caller's environment, which could point it
// at another repository, index or configuration.
package runbooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sitroom/model"
)

// Timeout bounds one git command.
const Timeout = 5 * time.Second

// Revision returns the last commit of the runbook file at path and
// whether the work tree has uncommitted changes to it. The zero revision
// and no error: git is not installed, or the file is not in a work tree
// (or git ignores it). An error: git ran and failed (a timeout, a
// repository it refuses to read).
func Revision(ctx context.Context, path string) (model.RunbookRevision, error) {
	var rev model.RunbookRevision
	git, err := exec.LookPath("git")
	if err != nil {
		return rev, nil
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // the file git tracks, not the link to it
	}
	dir, name := filepath.Split(filepath.Clean(path))
	if dir == "" {
		dir = "."
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	out, err := run(ctx, git, dir, "log", "-1", "--no-show-signature", "--no-color",
		"--format=%h%x00%an%x00%aI%x00%s", "--", name)
	if err != nil {
		if errors.Is(err, errNotRepo) {
			return rev, nil
		}
		return rev, err
	}
	if line := strings.TrimRight(string(out), "\n"); line != "" {
		f := strings.SplitN(line, "\x00", 4)
		if len(f) != 4 {
			return rev, fmt.Errorf("git log: unexpected output %q", line)
		}
		rev.Hash, rev.Author, rev.Subject = f[0], f[1], f[3]
		if t, err := time.Parse(time.RFC3339, f[2]); err == nil {
			rev.Date = t
		}
	}
	out, err = run(ctx, git, dir, "status", "--porcelain=v1", "-z", "--no-renames",
		"--untracked-files=all", "--ignored=no", "--", name)
	if err != nil {
		return model.RunbookRevision{}, err
	}
	switch {
	case len(out) == 0:
	case bytes.HasPrefix(out, []byte("??")):
		rev.Untracked = rev.Hash == ""
		rev.Modified = rev.Hash != "" // deleted from the index, still on disk
	default:
		rev.Modified = true
	}
	return rev, nil
}

// errNotRepo is git saying the directory is not in a work tree.
var errNotRepo = errors.New("not a git repository")

// run runs git in dir with args after the options every run takes, and
// returns its standard output.
func run(ctx context.Context, git, dir string, args ...string) ([]byte, error) {
	full := append([]string{"-C", dir, "--no-pager", "--no-optional-locks", "--literal-pathspecs",
		"-c", "core.fsmonitor=false", "-c", "color.ui=false"}, args...)
	cmd := exec.CommandContext(ctx, git, full...)
	cmd.Env = gitEnv(os.Environ())
	cmd.WaitDelay = time.Second // a child that keeps the pipes open cannot hold us
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limited{b: &stdout, n: 1 << 20}, &limited{b: &stderr, n: 64 << 10}
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("git %s: no answer within %s", args[0], Timeout)
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Contains(msg, "not a git repository") {
		return nil, errNotRepo
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.TrimPrefix(msg, "fatal: ")
	if msg == "" {
		msg = err.Error()
	}
	return nil, fmt.Errorf("git %s: %s", args[0], msg)
}

// gitEnv is env without any GIT_* variable (GIT_DIR, GIT_WORK_TREE,
// GIT_INDEX_FILE, GIT_CONFIG_*, … would make git read another repository
// or configuration than the file's own), with git's messages in English
// (errors are recognised by their text) and no prompt.
func gitEnv(env []string) []string {
	out := make([]string, 0, len(env)+3)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || k == "LC_ALL" || k == "LANGUAGE" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "LC_ALL=C", "GIT_TERMINAL_PROMPT=0")
}

// limited keeps the first n bytes written to it and drops the rest.
type limited struct {
	b *bytes.Buffer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
