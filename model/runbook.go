package model

import "time"

// RunbookRevision is what version control says of a runbook file: the
// last commit that changed it and whether the work tree holds changes to
// it that no commit has (an unaudited edit). The zero value says nothing:
// the file is not in a git work tree, or git is not installed.
type RunbookRevision struct {
	// Hash is the short hash of the last commit that changed the file.
	Hash    string
	Author  string
	Date    time.Time // the author date
	Subject string
	// Modified is set when the work tree (or the index) has changes to
	// the file that are not committed.
	Modified bool
	// Untracked is set for a file in a work tree that was never
	// committed.
	Untracked bool
}

// Known reports whether the file is in a git work tree at all.
func (r RunbookRevision) Known() bool { return r.Hash != "" || r.Untracked }

// Unaudited reports whether what the file says now is not what a commit
// says: changed since its last commit, or never committed.
func (r RunbookRevision) Unaudited() bool { return r.Modified || r.Untracked }
