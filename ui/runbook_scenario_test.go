package ui_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
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
