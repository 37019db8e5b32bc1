package runtime_test

import (
	"bytes"
	"regexp"
	"testing"
	"time"
)

// colourSGR matches a foreground or background colour set by an SGR
// sequence: 8/16 colours (30–37, 40–47, 90–97, 100–107), 256 colours and
// RGB (38;5 / 38;2 / 48;…).
var colourSGR = regexp.MustCompile(`\x1b\[(?:[0-9;]*;)?(?:3[0-7]|4[0-7]|9[0-7]|10[0-7]|[34]8;[25](?:;[0-9]+)+)(?:;[0-9;]*)?m`)

// TestTerminalsDrawAndQuit runs the built dashboard in a pseudo-terminal
// under each TERM an operator is likely to have — a desktop terminal, the
// Linux console, screen and tmux, an old vt100 — and reads the bytes it
// sends: a first frame with the outage, borders in line drawing where the
// terminal has it and in ASCII where it has not, colour only where the
// terminal and NO_COLOR allow, and q quitting cleanly.
func TestTerminalsDrawAndQuit(t *testing.T) {
	bin := dashboardBinary(t)
	am, _ := fixedAlertmanager(t)
	cfg := alertmanagerConfig(t, am.URL)
	for _, c := range []struct {
		term    string
		noColor bool
		ascii   bool
		colour  bool
	}{
		{term: "xterm-256color", colour: true},
		{term: "xterm", colour: true},
		{term: "linux", colour: true},
		{term: "screen", colour: true},
		{term: "screen-256color", colour: true},
		{term: "tmux-256color", colour: true},
		{term: "vt100", ascii: true},
		{term: "vt220", ascii: true},
		{term: "xterm-256color", noColor: true},
	} {
		name := c.term
		if c.noColor {
			name += "+NO_COLOR"
		}
		t.Run(name, func(t *testing.T) {
			env := []string{"TERM=" + c.term}
			if c.noColor {
				env = append(env, "NO_COLOR=1")
			}
			r := startDashboard(t, bin, env, cfg)
			r.WaitFor(t, "checkout", 30*time.Second)
			r.WaitFor(t, "Outages", 5*time.Second)
			time.Sleep(300 * time.Millisecond) // the rest of the frame
			out := r.Output()
			lineDrawn := bytes.Contains(out, []byte("┌")) || bytes.Contains(out, []byte("\x1b(0l"))
			if c.ascii {
				if lineDrawn || bytes.Contains(out, []byte("▲")) {
					t.Errorf("TERM=%s got line-drawing or glyph bytes; want ASCII:\n%q", c.term, out[:min(len(out), 3000)])
				}
				if !bytes.Contains(out, []byte("+-")) {
					t.Errorf("TERM=%s: no ASCII border (+-) in:\n%q", c.term, out[:min(len(out), 3000)])
				}
			} else if !lineDrawn {
				t.Errorf("TERM=%s: no line-drawn border in:\n%q", c.term, out[:min(len(out), 3000)])
			}
			if got := colourSGR.Find(out); c.colour != (got != nil) {
				t.Errorf("TERM=%s NO_COLOR=%v: colour sequence %q found, want colour %v", c.term, c.noColor, got, c.colour)
			}
			if err := r.Quit(t); err != nil {
				t.Errorf("q: sitroom exited with %v; the terminal got:\n%q", err, r.Output()[max(0, len(r.Output())-2000):])
			}
		})
	}
}
