package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

type fakeHandoff struct{ r *model.Handoff }

func (f fakeHandoff) Handoff(context.Context) (*model.Handoff, error) { return f.r, nil }

// h opens the shift handoff report and its timeline, built by the
// HandoffSource off the UI goroutine; it scrolls like the detail view and
// Esc closes it.
func TestHandoffKeyOpensTheReport(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	h := &model.History{
		Outages: []model.OutageRecord{{ID: 1, Service: "checkout", Severity: model.SevCritical, Opened: t0.Add(time.Hour)}},
		Audit: []model.AuditEntry{{ID: 1, At: t0.Add(time.Hour + 4*time.Minute), Operator: "alice", Verb: model.VerbAck,
			Service: "checkout", Target: "checkout", Comment: "looking \x1b[31m[red]", State: model.ActionDelivered}},
		Escalations: []model.Escalation{{ActionID: 2, Service: "checkout", Level: 2, By: "carol", At: t0.Add(2 * time.Hour)}},
	}
	r := model.BuildHandoff(h, model.HandoffOptions{Window: model.Window{Label: "late shift", From: t0, To: t0.Add(8 * time.Hour)}})
	hs := uitest.Start(t, ui.Options{Handoff: fakeHandoff{r}, Operator: "noc1"}, 100, 30)
	hs.Type("h")
	require.Eventually(t, func() bool { return strings.Contains(strings.Join(hs.Text(), "\n"), "Shift handoff") }, 5*time.Second, 20*time.Millisecond)
	text := strings.Join(hs.Text(), "\n")
	assert.Contains(t, text, "**checkout** — critical")
	assert.Contains(t, text, "first ack: alice at 16:04")
	assert.NotContains(t, text, "\x1b", "operator text is drawn inert")
	hs.Type("G")
	text = strings.Join(hs.Text(), "\n")
	assert.Contains(t, text, "escalated checkout by carol", "the timeline follows the report")
	hs.Key(tcell.KeyEscape)
	assert.NotContains(t, strings.Join(hs.Text(), "\n"), "Shift handoff")

	// without a HandoffSource, h says why
	plain := uitest.Start(t, ui.Options{Operator: "noc1"}, 100, 30)
	plain.Type("h")
	assert.Contains(t, strings.Join(plain.Text(), "\n"), "h: no history to report from")
}
