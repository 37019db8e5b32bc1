package runbooks_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/sources/runbooks"
)

// needGit skips a test only when the git command is missing.
func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
}

// git runs git in dir for the test's repository, with a fixed identity
// and dates and none of the caller's GIT_* settings.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
		"GIT_AUTHOR_NAME=Dana Ops", "GIT_AUTHOR_EMAIL=dana@example.org",
		"GIT_COMMITTER_NAME=Dana Ops", "GIT_COMMITTER_EMAIL=dana@example.org",
		"GIT_AUTHOR_DATE=2026-03-02T14:05:00Z", "GIT_COMMITTER_DATE=2026-03-02T14:05:00Z")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newRepo makes a runbooks repository with db/failover.md committed twice
// and the other file committed once.
func newRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	write(t, filepath.Join(dir, "db", "failover.md"), "# Failover\n")
	write(t, filepath.Join(dir, "web", "checkout.md"), "# Checkout\n")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "Add the first runbooks")
	write(t, filepath.Join(dir, "db", "failover.md"), "# Failover\n\n1. Stop writes.\n")
	git(t, dir, "commit", "-q", "-am", "failover: stop writes first")
	return dir
}

func TestRevisionOfACommittedRunbook(t *testing.T) {
	needGit(t)
	dir := newRepo(t)
	rev, err := runbooks.Revision(context.Background(), filepath.Join(dir, "db", "failover.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rev.Hash) < 7 || rev.Author != "Dana Ops" || rev.Subject != "failover: stop writes first" ||
		!rev.Date.Equal(time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)) || rev.Modified || rev.Untracked || !rev.Known() {
		t.Fatalf("got %+v", rev)
	}
	// The other file's last commit is the first one.
	other, err := runbooks.Revision(context.Background(), filepath.Join(dir, "web", "checkout.md"))
	if err != nil || other.Subject != "Add the first runbooks" || other.Hash == rev.Hash {
		t.Fatalf("got %+v, %v", other, err)
	}
}

// An edit not committed (staged or not) marks the file modified; a file
// never committed is untracked; both are unaudited.
func TestRevisionMarksLocalChanges(t *testing.T) {
	needGit(t)
	dir := newRepo(t)
	p := filepath.Join(dir, "db", "failover.md")
	write(t, p, "# Failover\n\n1. Skip the checks.\n")
	rev, err := runbooks.Revision(context.Background(), p)
	if err != nil || !rev.Modified || rev.Hash == "" || !rev.Unaudited() {
		t.Fatalf("an edited runbook: %+v, %v", rev, err)
	}
	git(t, dir, "add", p)
	if rev, err = runbooks.Revision(context.Background(), p); err != nil || !rev.Modified {
		t.Fatalf("a staged edit: %+v, %v", rev, err)
	}
	// The other file is still clean.
	if rev, err = runbooks.Revision(context.Background(), filepath.Join(dir, "web", "checkout.md")); err != nil || rev.Modified {
		t.Fatalf("an untouched runbook next to an edited one: %+v, %v", rev, err)
	}
	n := filepath.Join(dir, "db", "new.md")
	write(t, n, "# New\n")
	if rev, err = runbooks.Revision(context.Background(), n); err != nil || !rev.Untracked || rev.Hash != "" || !rev.Known() || !rev.Unaudited() {
		t.Fatalf("a runbook never committed: %+v, %v", rev, err)
	}
}

// Outside a work tree, or without git, there is nothing to say and no
// error.
func TestRevisionOutsideAWorkTreeOrWithoutGit(t *testing.T) {
	needGit(t)
	p := filepath.Join(t.TempDir(), "loose.md")
	write(t, p, "# Loose\n")
	rev, err := runbooks.Revision(context.Background(), p)
	if err != nil || rev != (model.RunbookRevision{}) {
		t.Fatalf("outside a work tree: %+v, %v", rev, err)
	}
	dir := newRepo(t)
	t.Setenv("PATH", t.TempDir())
	rev, err = runbooks.Revision(context.Background(), filepath.Join(dir, "db", "failover.md"))
	if err != nil || rev != (model.RunbookRevision{}) {
		t.Fatalf("without git: %+v, %v", rev, err)
	}
}

// GIT_* variables of the environment cannot point git at another
// repository: the runbook's own work tree is read.
func TestRevisionIgnoresGitEnvironment(t *testing.T) {
	needGit(t)
	dir := newRepo(t)
	decoy := newRepo(t)
	write(t, filepath.Join(decoy, "db", "failover.md"), "# decoy edit\n")
	t.Setenv("GIT_DIR", filepath.Join(decoy, ".git"))
	t.Setenv("GIT_WORK_TREE", decoy)
	t.Setenv("GIT_INDEX_FILE", filepath.Join(t.TempDir(), "index"))
	t.Setenv("GIT_CONFIG_PARAMETERS", "'core.pager'='false'")
	rev, err := runbooks.Revision(context.Background(), filepath.Join(dir, "db", "failover.md"))
	if err != nil || rev.Modified || rev.Subject != "failover: stop writes first" {
		t.Fatalf("got %+v, %v", rev, err)
	}
	// Outside any work tree, GIT_DIR does not make one.
	p := filepath.Join(t.TempDir(), "loose.md")
	write(t, p, "# Loose\n")
	if rev, err = runbooks.Revision(context.Background(), p); err != nil || rev.Known() {
		t.Fatalf("GIT_DIR made a loose file tracked: %+v, %v", rev, err)
	}
}

// A file name that reads as a pathspec (":(glob)*") is taken literally.
func TestRevisionTakesTheNameLiterally(t *testing.T) {
	needGit(t)
	dir := newRepo(t)
	p := filepath.Join(dir, "db", ":(glob)*")
	write(t, p, "# odd name\n")
	rev, err := runbooks.Revision(context.Background(), p)
	if err != nil || !rev.Untracked {
		t.Fatalf("got %+v, %v", rev, err)
	}
	// The committed file beside it is not what was asked about.
	if rev.Hash != "" || rev.Modified {
		t.Fatalf("the pathspec matched other files: %+v", rev)
	}
}

// A git that does not answer is given up on with a timeout error, not
// waited for.
func TestRevisionGivesUpOnAHungGit(t *testing.T) {
	needGit(t)
	dir := newRepo(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := runbooks.Revision(ctx, filepath.Join(dir, "db", "failover.md")); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("a cancelled context: %v", err)
	}
}

func TestLocal(t *testing.T) {
	base := "https://git.example/noc/runbooks/blob/main/"
	for _, c := range []struct {
		ref, dir, want string
	}{
		{"/etc/sitroom/runbooks/checkout.md", "", "/etc/sitroom/runbooks/checkout.md"},
		{"file:///srv/runbooks/db/lag.md", "", "/srv/runbooks/db/lag.md"},
		{base + "db/lag.md#check", "/srv/runbooks", "/srv/runbooks/db/lag.md"},
		{base + "db/lag.md", "", ""},
		{base + "../../etc/passwd", "/srv/runbooks", ""},
		{"https://wiki.example/Checkout", "/srv/runbooks", ""},
		{"db/lag.md", "/srv/runbooks", "/srv/runbooks/db/lag.md"},
		{"", "/srv/runbooks", ""},
	} {
		got, ok := runbooks.Local(c.ref, c.dir, base)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("Local(%q, %q) = %q, %v; want %q", c.ref, c.dir, got, ok, c.want)
		}
	}
}

// Check lists the catalog's runbooks that are missing, unreadable,
// modified locally or never committed, each file once with every service
// that names it; clean ones and web pages are not listed.
func TestCheckListsProblemRunbooks(t *testing.T) {
	needGit(t)
	dir := newRepo(t)
	write(t, filepath.Join(dir, "db", "failover.md"), "# edited, not committed\n")
	write(t, filepath.Join(dir, "db", "draft.md"), "# draft\n")
	if err := os.MkdirAll(filepath.Join(dir, "dir.md"), 0o755); err != nil {
		t.Fatal(err)
	}
	base := "https://git.example/noc/runbooks/blob/main/"
	services := []*model.Service{
		{Name: "db-main", Runbook: filepath.Join(dir, "db", "failover.md")},
		{Name: "db-replica", Runbook: base + "db/failover.md#steps"},
		{Name: "checkout", Runbook: filepath.Join(dir, "web", "checkout.md")},
		{Name: "payments", Runbook: filepath.Join(dir, "gone.md")},
		{Name: "search", Runbook: "file://" + filepath.Join(dir, "dir.md")},
		{Name: "queue", Runbook: filepath.Join(dir, "db", "draft.md")},
		{Name: "web", Runbook: "https://wiki.example/web"},
		{Name: "cdn"},
	}
	problems, local := runbooks.Check(context.Background(), services, dir, base)
	if local != 5 {
		t.Errorf("looked at %d local runbooks, want 5", local)
	}
	got := map[string]runbooks.Problem{}
	for _, p := range problems {
		got[strings.Join(p.Services, ",")] = p
	}
	want := map[string]string{
		"db-main,db-replica": "modified locally: uncommitted changes since ",
		"payments":           "missing",
		"search":             "unreadable: a directory",
		"queue":              "modified locally: never committed",
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d: %+v", len(got), len(want), problems)
	}
	for svc, what := range want {
		if p, ok := got[svc]; !ok || !strings.HasPrefix(p.What, what) {
			t.Errorf("%s: got %+v, want %q", svc, p, what)
		}
	}
	if problems[0].Path != filepath.Join(dir, "db", "failover.md") {
		t.Errorf("not in catalog order: %+v", problems)
	}
}
