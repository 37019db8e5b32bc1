package ui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/sources/runbooks"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// replicationRunbook is a runbook as teams write them, with an escape
// sequence and a tview tag planted in it: runbook text is untrusted.
const replicationRunbook = "# Replication lag\n" +
	"\n" +
	"The replica is behind the primary. **Do not** fail over\n" +
	"while it is behind: see [the failover guide](failover.md).\n" +
	"\n" +
	"## Check\n" +
	"\n" +
	"1. Look at `pg_stat_replication` on the primary.\n" +
	"2. Check the network between the two hosts:\n" +
	"   - packet loss on the bond\n" +
	"   - the replica's disk latency\n" +
	"\n" +
	"```sh\n" +
	"psql -c 'select client_addr, replay_lag from pg_stat_replication;'\n" +
	"```\n" +
	"\n" +
	"> Paging the DBA is fine at any hour.\n" +
	"\n" +
	"---\n" +
	"\n" +
	"- [ ] note the lag in the incident\n" +
	"- [x] read this runbook \x1b]0;pwned\x07 [red]twice[-]\n"

func runbookSnapshot(runbookURL string) *model.Snapshot {
	rows := []*model.AlertRow{
		row("prom", model.StateFiring, 2*time.Hour, map[string]string{"alertname": "ReplicationLag", "severity": "critical", "service": "db-main"},
			map[string]string{"summary": "replica 45s behind primary", "runbook_url": runbookURL}),
	}
	return model.BuildSnapshot(rows, []model.SourceStatus{{Name: "prom", LastAttempt: fixedNow, LastSuccess: fixedNow}}, model.SnapshotOptions{Now: fixedNow})
}

// o on an alert whose runbook_url points into runbooks_dir (through the
// published address) renders the markdown in the document view; Esc goes
// back; an address outside the checkout is refused with a reason.
func TestRunbookRendered(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "db", "replication-lag.md"), []byte(replicationRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	base := "https://git.example/noc/runbooks/blob/main/"
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, RunbooksDir: dir, RunbooksURL: base}, 80, 24)
	h.Push(runbookSnapshot(base + "db/replication-lag.md#check"))
	h.Type("2o")
	uitest.Golden(t, "runbook-80x24", h.Text())
	text := screen(h)
	h.Type("G") // the end: the task list with the planted escape and tag
	uitest.Golden(t, "runbook-80x24-end", h.Text())
	text += screen(h)
	if strings.Contains(text, "\x1b") || strings.Contains(text, "```") || strings.Contains(text, "**") {
		t.Fatalf("markdown or an escape reached the screen raw:\n%s", text)
	}
	h.Key(tcell.KeyEscape)
	if !h.Contains("2 Alerts (1)") {
		t.Fatalf("Esc did not go back to the alerts:\n%s", screen(h))
	}
	// From the alert's detail, o opens the runbook and Esc returns to the detail.
	h.Key(tcell.KeyEnter)
	h.Type("o")
	if !h.Contains("Runbook replication-lag.md") {
		t.Fatalf("o in the detail did not open the runbook:\n%s", screen(h))
	}
	h.Key(tcell.KeyEscape)
	if !h.Contains("Alert ReplicationLag") {
		t.Fatalf("Esc from the runbook did not return to the detail:\n%s", screen(h))
	}
	h.Key(tcell.KeyEscape)

	h.Push(runbookSnapshot(base + "../../../../etc/passwd"))
	h.Type("o")
	if !h.Contains("outside runbooks_dir") || h.Contains("Runbook") {
		t.Fatalf("a runbook_url leading out of the checkout was not refused:\n%s", screen(h))
	}
}

// A runbook that is a web page is shown as its address (an OSC 8 link)
// with the hint that y copies it, and y puts it on the clipboard.
func TestRunbookWebURLCopied(t *testing.T) {
	h := start(t, 80, 24)
	h.Push(fixture())
	h.Type("2")
	for i := 0; i < 8 && !strings.Contains(selectedLine(t, h), "HighErrorRate"); i++ {
		h.Key(tcell.KeyDown)
	}
	h.Type("o")
	text := screen(h)
	if !strings.Contains(text, "https://runbooks.example/checkout/high-error-rate") || !strings.Contains(text, "y copies the address") {
		t.Fatalf("the web runbook is not shown with its copy hint:\n%s", text)
	}
	const url = "https://runbooks.example/checkout/high-error-rate"
	linked := 0
	h.App.Inspect(func() {
		cells, _, _ := h.Screen.GetContents()
		for _, c := range cells {
			if c.Style.Url("") != c.Style && c.Style.Url(url) == c.Style {
				linked++
			}
		}
	})
	if linked < len(url) {
		t.Errorf("the address is not an OSC 8 hyperlink (%d cells linked)", linked)
	}
	h.Type("y")
	if got := string(h.Screen.GetClipboardData()); got != "https://runbooks.example/checkout/high-error-rate" {
		t.Fatalf("y copied %q", got)
	}
	if !h.Contains("runbook address") {
		t.Errorf("y did not say what it copied:\n%s", screen(h))
	}
}

// nocRunbook is testdata/runbooks/db-main-failover.md: a runbook as a NOC
// keeps it in version control (contacts table, steps with commands, a
// warning quote, a task list), and the runbooks directory holding it.
func nocRunbook(t *testing.T) (dir, body string) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "runbooks"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "db-main-failover.md"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, string(b)
}

// The NOC's runbook on a laptop over SSH (80×24) and on a wide console
// (200×60): the contacts table in aligned columns (cut with … at 80), the
// steps numbered with their sub-steps under them, the commands verbatim
// (cut at the edge, never wrapped) and scrolled sideways with →.
func TestRunbookGoldens(t *testing.T) {
	dir, _ := nocRunbook(t)
	for _, sz := range [][2]int{{80, 24}, {200, 60}} {
		name := fmt.Sprintf("runbook-noc-%dx%d", sz[0], sz[1])
		t.Run(name, func(t *testing.T) {
			h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, RunbooksDir: dir}, sz[0], sz[1])
			h.Push(runbookSnapshot("db-main-failover.md"))
			h.Type("2o")
			uitest.Golden(t, name, h.Text())
			text := screen(h)
			for _, want := range []string{"DB-MAIN: PRIMARY DOWN", "Role ", "Phone", "+44 20 7946 0958", "Storage vendor"} {
				if !strings.Contains(text, want) {
					t.Errorf("the first page lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "|--") || strings.Contains(text, "| ") {
				t.Errorf("the table is drawn with its markdown rule or pipes:\n%s", text)
			}
			if sz[0] != 80 {
				return
			}
			if !strings.Contains(text, "Payments (downstr…") {
				t.Errorf("a cell too wide for 80 columns is not cut with …:\n%s", text)
			}
			h.Key(tcell.KeyPgDn)
			uitest.Golden(t, name+"-steps", h.Text())
			before := screen(h)
			const cmd = "'systemctl status postgresql@16-main --no-pager'"
			if strings.Contains(before, cmd) || !strings.Contains(before, "ssh db-main-1.prod.internal 'systemctl") {
				t.Fatalf("a command line wider than the page is not cut at the edge:\n%s", before)
			}
			h.Key(tcell.KeyRight)
			h.Key(tcell.KeyRight)
			after := screen(h)
			uitest.Golden(t, name+"-steps-right", h.Text())
			if !strings.Contains(after, "--no-pager'") {
				t.Errorf("→ did not bring the end of the command into view:\n%s", after)
			}
			if !strings.Contains(after, "1. Confirm the primary is really gone") {
				t.Errorf("→ moved the text, not only the code:\n%s", after)
			}
			h.Key(tcell.KeyLeft)
			h.Key(tcell.KeyLeft)
			if screen(h) != before {
				t.Errorf("← did not bring the code back:\n%s", screen(h))
			}
		})
	}
}

// git runs the git command in dir for a test's repository, with a fixed
// identity and date.
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

// A runbook in a git work tree shows its last commit at the top of its
// page (short hash, author, date, subject); once edited and not
// committed, it is marked modified locally.
func TestRunbookShowsItsRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	_, body := nocRunbook(t)
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(dir, "db-main-failover.md"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "db-main: fence the old primary before promoting")
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, RunbooksDir: dir,
		RunbookRevision: runbooks.Revision}, 80, 24)
	h.Push(runbookSnapshot("db-main-failover.md"))
	h.Type("2o")
	h.WaitIdle()
	lines := h.Text()
	if !strings.HasPrefix(strings.TrimLeft(lines[3], "│ "), "git ") ||
		!strings.Contains(lines[3], "· Dana Ops · 2026-03-02 14:05 UTC · “db-main: fence the old") {
		t.Fatalf("the page does not open with the runbook's last commit:\n%s", screen(h))
	}
	if h.Contains("modified locally") {
		t.Fatalf("a committed runbook is marked modified:\n%s", screen(h))
	}
	uitest.Golden(t, "runbook-noc-revision-80x24", lines)
	h.Key(tcell.KeyEscape)

	if err := os.WriteFile(filepath.Join(dir, "db-main-failover.md"), []byte(body+"\n6. Skip the lag check.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.Type("o")
	h.WaitIdle()
	if !h.Contains("modified locally") || !h.Contains("Dana Ops") {
		t.Fatalf("an edited runbook is not marked modified locally:\n%s", screen(h))
	}
	h.Key(tcell.KeyEscape)

	// A runbook outside any work tree: no header, no error.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "db-main-failover.md"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	h2 := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, RunbooksDir: other,
		RunbookRevision: runbooks.Revision}, 80, 24)
	h2.Push(runbookSnapshot("db-main-failover.md"))
	h2.Type("2o")
	h2.WaitIdle()
	if h2.Contains("git ") || h2.Contains("modified") || !h2.Contains("DB-MAIN: PRIMARY DOWN") {
		t.Fatalf("a runbook outside a work tree:\n%s", screen(h2))
	}
}

// The revision is read off the UI goroutine: the page opens and scrolls
// while git has not answered, and the header appears when it does,
// without moving what the reader is looking at.
func TestRunbookRevisionArrivesLater(t *testing.T) {
	dir, _ := nocRunbook(t)
	release := make(chan struct{})
	asked := make(chan string, 1)
	rev := func(ctx context.Context, path string) (model.RunbookRevision, error) {
		asked <- path
		<-release
		return model.RunbookRevision{Hash: "3f2a9c1", Author: "Dana Ops", Date: time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC),
			Subject: "steps: \x1b]0;pwned\x07 [red]fence[-] first", Modified: true}, nil
	}
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, RunbooksDir: dir, RunbookRevision: rev}, 80, 24)
	h.Push(runbookSnapshot("db-main-failover.md"))
	for _, r := range "2o" {
		h.App.InjectKey(tcell.NewEventKey(tcell.KeyRune, r, tcell.ModNone))
	}
	if p := <-asked; p != filepath.Join(dir, "db-main-failover.md") {
		t.Fatalf("asked for the revision of %q", p)
	}
	deadline := time.Now().Add(uitest.Timeout)
	for !h.Contains("DB-MAIN: PRIMARY DOWN") { // laid out by a worker, git not answered
		if time.Now().After(deadline) {
			t.Fatalf("the page did not open while git had not answered:\n%s", screen(h))
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.App.InjectKey(tcell.NewEventKey(tcell.KeyRune, 'j', tcell.ModNone))
	for !h.Contains("Runbook db-main-failover.md") || h.Contains("DB-MAIN: PRIMARY DOWN") {
		if time.Now().After(deadline) {
			t.Fatalf("the page did not open and scroll while git had not answered:\n%s", screen(h))
		}
		time.Sleep(5 * time.Millisecond)
	}
	top := h.Text()[3]
	close(release)
	h.WaitIdle()
	if h.Text()[3] != top {
		t.Errorf("the header moved the text in view: %q, now %q", top, h.Text()[3])
	}
	h.Type("g")
	text := screen(h)
	if !strings.Contains(text, "git 3f2a9c1 · Dana Ops · 2026-03-02 14:05 UTC") || !strings.Contains(text, "modified locally") {
		t.Fatalf("the revision did not show when it arrived:\n%s", text)
	}
	if !strings.Contains(text, `\x1b]0;pwned\x07`) || !strings.Contains(text, "[red]fence[-] first") || strings.ContainsRune(text, 0x1b) {
		t.Errorf("the commit subject is not shown inert:\n%s", text)
	}
}

// A runbook that cannot be read (here a directory where the file should
// be) opens its page, read by a worker, with the reason on it and in the
// flash line, instead of leaving the operator at a "loading…" page.
func TestRunbookUnreadableSaysWhyOnItsPage(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "gone.md"), 0o700); err != nil {
		t.Fatal(err)
	}
	h := uitest.Start(t, ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, RunbooksDir: dir}, 80, 24)
	h.Push(runbookSnapshot("gone.md"))
	h.Type("2o")
	text := screen(h)
	if !strings.Contains(text, "Runbook gone.md") || !strings.Contains(text, "cannot read the runbook gone.md") || strings.Contains(text, "loading…") {
		t.Fatalf("the page does not say why the runbook cannot be read:\n%s", text)
	}
}
