package model

import "testing"

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 outages", 1: "1 outage", 2: "2 outages", 10: "10 outages"} {
		if got := Plural(n, "outage", "outages"); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
}
