package ui

import (
	"strings"
	"testing"

	"github.com/gdamore/tcell/v2"
)

// TestShortColumnsFillBeforeFreeText: a level and a source list keep their
// whole text while a name and a summary give way, and the free-text
// columns share what is left instead of the first one taking it all.
func TestShortColumnsFillBeforeFreeText(t *testing.T) {
	cols := []column{
		{title: "SEV", min: 6, max: 6},
		{title: "NAME", min: 12, max: 40, text: true},
		{title: "LEVEL", min: 5, max: 28},
		{title: "SOURCES", min: 7, max: 30},
		{title: "SUMMARY", min: 16, max: 1 << 16, flex: true},
	}
	natural := []int{6, 31, 24, 14, 1 << 16}
	w := fitColumns(cols, natural, 86)
	if w[2] != 24 || w[3] != 14 {
		t.Errorf("LEVEL %d and SOURCES %d cells, want their whole 24 and 14: %v", w[2], w[3], w)
	}
	if sum := w[0] + w[1] + w[2] + w[3] + w[4] + 4; sum != 86 {
		t.Errorf("widths %v use %d cells of 86", w, sum)
	}
	if w[1] < 12 || w[4] < 16 || w[1]-w[4] > 1 && w[4]-w[1] > 1 {
		t.Errorf("NAME %d and SUMMARY %d do not share the rest: %v", w[1], w[4], w)
	}
	// room for everything: the name whole, the summary the rest
	w = fitColumns(cols, natural, 200)
	if w[1] != 31 || w[4] != 200-6-31-24-14-4 {
		t.Errorf("at 200 cells: %v", w)
	}
	// too narrow for the short columns' whole text: they keep their
	// minimum, the free text too, and nothing spills past the width
	w = fitColumns(cols, natural, 50)
	if sum := w[0] + w[1] + w[2] + w[3] + w[4] + 4; sum > 50 || w[3] < 7 {
		t.Errorf("at 50 cells: %v", w)
	}
}

func TestSourceListCountsWhatDoesNotFit(t *testing.T) {
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	defer s.Fini()
	p := newPainter(s)
	text := listText([]string{"am-a", "am-b", "prom"})
	for w, want := range map[int]string{
		30: "am-a,am-b,prom", 14: "am-a,am-b,prom", 13: "am-a,am-b +1", 12: "am-a,am-b +1",
		11: "am-a +2", 7: "am-a +2", 6: "am… +2", 5: "am-a,am-b,prom",
	} {
		if got := fitList(p, text, w); got != want {
			t.Errorf("%d cells: %q, want %q", w, got, want)
		}
	}
	if got := fitList(p, listText([]string{"prom"}), 3); got != "prom" {
		t.Errorf("one source: %q (the painter clips it)", got)
	}
	if strings.Contains(listText([]string{"a\x1fb", "c"}), "a\x1fb") {
		t.Error("a separator inside a source name reached the cell")
	}
}
