package ui_test

import (
	"strings"
	"testing"
	"time"

	"sitroom/model"
	"sitroom/ui"
	"sitroom/ui/uitest"
)

// In team mode the header names the operator the team store
// authenticated, with their role; when that is not the OS user, it says
// so; until the store has said, the identity is marked unverified. At 80
// columns the OS user gives way to the counts.
func TestHeaderNamesTheTeamIdentity(t *testing.T) {
	cases := []struct {
		team model.TeamState
		want string
	}{
		{model.TeamState{Configured: true, OK: true, User: "ops1", OSUser: "ops1", Role: model.RoleTier1, Enforced: true, Verified: true},
			"ops1 · tier1"},
		{model.TeamState{Configured: true, OK: true, User: "ops1", OSUser: "root", Role: model.RoleTier1, Enforced: true, Verified: true},
			"ops1 (database) as OS user root · tier1"},
		{model.TeamState{Configured: true, User: "ops1", OSUser: "root", Role: model.RoleTier2, Enforced: true},
			"ops1 (database) as OS user root · tier2 (unverified)"},
		// The lab setup: the store does not vouch; the OS user acts.
		{model.TeamState{Configured: true, OK: true, User: "root", OSUser: "root", Role: model.RoleLead, Verified: true},
			"root · lead"},
	}
	for _, c := range cases {
		for _, w := range []int{200, 120} {
			s := uitest.NewScreen(t, w, 24)
			ui.DrawPanel(s, ui.PanelHeader, fixture(), ui.DrawOptions{Now: fixedNow, Operator: "root · tier1",
				Board: &model.Board{Team: c.team}})
			top := uitest.ScreenText(s)[0]
			if !strings.Contains(top, c.want) {
				t.Errorf("at %d columns the header does not say %q:\n%s", w, c.want, top)
			}
			if !strings.Contains(top, fixedNow.Local().Format("15:04:05")) {
				t.Errorf("at %d columns the clock is gone:\n%s", w, top)
			}
		}
		// At 80 columns the OS user gives way to the counts.
		s := uitest.NewScreen(t, 80, 24)
		ui.DrawPanel(s, ui.PanelHeader, fixture(), ui.DrawOptions{Now: fixedNow, Operator: "root · tier1",
			Board: &model.Board{Team: c.team}})
		top := uitest.ScreenText(s)[0]
		short := c.team
		short.OSUser = ""
		if want := short.OperatorLabel(); !strings.Contains(top, want) || !strings.Contains(top, "OUT 2 FIRE 5 CRIT 2") {
			t.Errorf("at 80 columns the header does not say %q with the counts:\n%s", want, top)
		}
	}
}

// The header follows the identity the boards carry: first the OS user the
// console started as, then the operator the store authenticated; an
// action the store refused when it was pushed is said on the status line.
func TestHeaderFollowsTheIdentityAndSaysAPushRefused(t *testing.T) {
	a := newFakeActor(model.RoleTier1)
	a.op.User = "root"
	h := uitest.Start(t, ui.Options{Operator: "root", Now: func() time.Time { return fixedNow }, Actor: a}, 120, 30)
	defer h.Stop()
	h.Push(fixture())
	waitFor(t, h, "root · tier1")
	b := a.copyBoard()
	b.Team = model.TeamState{Configured: true, OK: true, User: "view1", OSUser: "root", Role: model.RoleViewer,
		Enforced: true, Verified: true}
	a.publish(b)
	waitFor(t, h, "view1 (database) as OS user root · viewer")

	b = a.copyBoard()
	b.Team = model.TeamState{Configured: true, OK: true, User: "ops1", OSUser: "root", Role: model.RoleTier1, Enforced: true,
		Verified: true, Refused: "escalate checkout by ops1: refused by the team store: level 3 needs lead", RefusedAt: fixedNow}
	a.publish(b)
	waitFor(t, h, "escalate checkout by ops1: refused by the team store: level 3 needs lead")
}

// The help page names who acts and whether the store vouches for them,
// the OS user included even when the header had no room for it.
func TestHelpSaysWhoActs(t *testing.T) {
	board := &model.Board{Team: model.TeamState{Configured: true, OK: true, LastSync: fixedNow, User: "ops1", OSUser: "root",
		Role: model.RoleTier1, Enforced: true, Verified: true}}
	s := uitest.NewScreen(t, 120, 60)
	ui.DrawPanel(s, ui.PanelHelp, fixture(), ui.DrawOptions{Now: fixedNow, Board: board, From: "team store (PostgreSQL)"})
	all := strings.Join(uitest.ScreenText(s), "\n")
	for _, want := range []string{"acting as", "ops1 (database) as OS user root · tier1", "authenticated by the team store"} {
		if !strings.Contains(all, want) {
			t.Errorf("the help page does not say %q:\n%s", want, all)
		}
	}
	board.Team = model.TeamState{Configured: true, OK: true, LastSync: fixedNow, User: "root", OSUser: "root", Role: model.RoleLead, Verified: true}
	ui.DrawPanel(s, ui.PanelHelp, fixture(), ui.DrawOptions{Now: fixedNow, Board: board, From: "team store (PostgreSQL)"})
	all = strings.Join(uitest.ScreenText(s), "\n")
	if !strings.Contains(all, "not enforced by the team store") {
		t.Errorf("the help page does not say identities are not enforced:\n%s", all)
	}
}
