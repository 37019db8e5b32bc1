package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// teamStates are the team store as a console sees it: answering, not yet
// answered, and down for 2 minutes with 3 changes of this console waiting.
var teamStates = map[string]model.TeamState{
	"ok":         {Configured: true, OK: true, LastSync: ago(time.Second)},
	"connecting": {Configured: true},
	"down": {Configured: true, Since: ago(2 * time.Minute), LastSync: ago(2 * time.Minute), Unsynced: 3,
		Error: "team store: connect: dial tcp 10.0.0.5:5432: connect: connection refused " + hostileTag},
}

// In team mode the header shows the team store as one more chip, drawn
// like a source's; at 80 columns a down store's chip is first, so the
// sources' chips give way to it and never hide it.
func TestTeamChipGoldens(t *testing.T) {
	for _, state := range []string{"ok", "down", "connecting"} {
		board := &model.Board{Team: teamStates[state]}
		for _, sz := range [][2]int{{80, 24}, {200, 60}} {
			name := fmt.Sprintf("header-team-%s-%dx%d", state, sz[0], sz[1])
			t.Run(name, func(t *testing.T) {
				s := uitest.NewScreen(t, sz[0], sz[1])
				ui.DrawPanel(s, ui.PanelHeader, fixture(), ui.DrawOptions{Now: fixedNow, Operator: "alice", Board: board})
				text := uitest.ScreenText(s)
				uitest.Golden(t, name, text)
				chips := text[1]
				want := map[string]string{"ok": "team ok", "connecting": "team connecting…",
					"down": "team down · last sync 2m ago · 3 to sync"}[state]
				if sz[0] == 200 || state == "down" {
					if !strings.Contains(chips, want) {
						t.Errorf("the chips do not say %q:\n%s", want, chips)
					}
				}
				if state == "down" && !strings.HasPrefix(chips, want) {
					t.Errorf("a down team store's chip is not first:\n%s", chips)
				}
				if state != "down" && strings.HasPrefix(chips, "team") {
					t.Errorf("a team store that is not down goes before a down source:\n%s", chips)
				}
				if strings.Contains(chips, "boom") || strings.Contains(chips, "refused") {
					t.Errorf("the chip holds the error, which is the help page's:\n%s", chips)
				}
			})
		}
	}
}

// Without team mode there is no team chip, and the header is as before.
func TestNoTeamChipWithoutTeamMode(t *testing.T) {
	for _, b := range []*model.Board{nil, {}} {
		s := uitest.NewScreen(t, 200, 60)
		ui.DrawPanel(s, ui.PanelHeader, fixture(), ui.DrawOptions{Now: fixedNow, Operator: "alice", Board: b})
		if all := strings.Join(uitest.ScreenText(s), "\n"); strings.Contains(all, "team") {
			t.Errorf("a team chip without team mode:\n%s", all)
		}
	}
}

// On the running dashboard and the wall screen, the team store's chip
// follows the action boards: down at 80 columns (first; in reverse on the
// wall screen), then gone from the first place once the store is ok.
func TestTeamChipFollowsTheBoard(t *testing.T) {
	down := "team down · last sync 2m ago · 3 to sync"
	for _, kiosk := range []bool{false, true} {
		a := newFakeActor(model.RoleTier1)
		opts := ui.Options{Operator: "alice", Now: func() time.Time { return fixedNow }, Actor: a}
		if kiosk {
			opts = kioskOpts(opts.Now)
			opts.Actor = a
		}
		h := uitest.Start(t, opts, 80, 24)
		h.Push(fixture())
		b := a.copyBoard()
		b.Team = teamStates["down"]
		a.publish(b)
		waitFor(t, h, down)
		if kiosk {
			cells, w, _ := h.Cells()
			x := strings.Index(h.Text()[1], "team down")
			if x < 0 {
				t.Fatalf("the wall screen's chips do not start with the team store:\n%s", screen(h))
			}
			if _, _, attr := cells[w+x].Style.Decompose(); attr&tcell.AttrReverse == 0 {
				t.Errorf("a down team store is not drawn in reverse on the wall screen")
			}
		}
		b = a.copyBoard()
		b.Team = teamStates["ok"]
		a.publish(b)
		deadline := time.Now().Add(uitest.Timeout)
		for h.Contains("team down") {
			if time.Now().After(deadline) {
				t.Fatalf("the team chip still says down:\n%s", screen(h))
			}
			time.Sleep(5 * time.Millisecond)
		}
		h.Stop()
	}
}

// The help page's Sources section holds the team store's full state: the
// error (inert), when it last synced, how many changes wait.
func TestHelpListsTheTeamStore(t *testing.T) {
	board := &model.Board{Team: teamStates["down"]}
	s := uitest.NewScreen(t, 120, 60)
	ui.DrawPanel(s, ui.PanelHelp, fixture(), ui.DrawOptions{Now: fixedNow, Board: board, From: "team store (PostgreSQL)"})
	all := strings.Join(uitest.ScreenText(s), "\n")
	for _, want := range []string{"team", "DOWN  team store (PostgreSQL)", "last sync", "2026-11-26 09:58:00 UTC (2m ago)",
		"down since", "connection refused " + hostileTag, "3 changes of this console not yet in the team store"} {
		if !strings.Contains(all, want) {
			t.Errorf("the help page does not say %q:\n%s", want, all)
		}
	}

	board = &model.Board{Team: teamStates["connecting"]}
	ui.DrawPanel(s, ui.PanelHelp, fixture(), ui.DrawOptions{Now: fixedNow, Board: board, From: "team store (PostgreSQL)"})
	all = strings.Join(uitest.ScreenText(s), "\n")
	for _, want := range []string{"CONNECTING  team store (PostgreSQL)", "never this run"} {
		if !strings.Contains(all, want) {
			t.Errorf("the help page does not say %q:\n%s", want, all)
		}
	}
}
