package model

import (
	"testing"
	"time"
)

func TestParseFilterValid(t *testing.T) {
	cases := []struct {
		in    string
		terms []string // field op value
		words []string
	}{
		{"", nil, nil},
		{"   ", nil, nil},
		{"Disk", nil, []string{"disk"}},
		{"disk full", nil, []string{"disk", "full"}},
		{`"Disk Full"`, nil, []string{"disk full"}},
		{"severity=critical", []string{"severity=critical"}, nil},
		{`service=~"pay.*"`, []string{"service=~pay.*"}, nil},
		{"service=~pay.*", []string{"service=~pay.*"}, nil},
		{"team!=web", []string{"team!=web"}, nil},
		{"team!~w.b", []string{"team!~w.b"}, nil},
		{`team=""`, []string{"team="}, nil},
		{"@source=am-eu", []string{"@source=am-eu"}, nil},
		{"@age>10m", []string{"@age>10m"}, nil},
		{"@age>=1h30m", []string{"@age>=1h30m"}, nil},
		{"@sla<30m", []string{"@sla<30m"}, nil},
		{"@sla<=-5m", []string{"@sla<=-5m"}, nil},
		{"@acked=false", []string{"@acked=false"}, nil},
		{"@tier=1", []string{"@tier=1"}, nil},
		{"@state=firing", []string{"@state=firing"}, nil},
		{`summary="disk \"full\""`, []string{`summary=disk "full"`}, nil},
		{"severity=critical pay @age>10m", []string{"severity=critical", "@age>10m"}, []string{"pay"}},
		{"user@example.com", nil, []string{"user@example.com"}},
		{"http://x/?a=b", nil, []string{"http://x/?a=b"}},
		{"a-b=c", []string{"a-b=c"}, nil},
		{"ÄRGER", nil, []string{"ärger"}},
		// Alertmanager's matchers, as amtool and a route's matchers: take them
		{"service=checkout", []string{"service=checkout"}, nil},
		{`{severity="critical"}`, []string{"severity=critical"}, nil},
		{`{severity="critical"} pay`, []string{"severity=critical"}, []string{"pay"}},
		{"severity=critical,service=db", []string{"severity=critical", "service=db"}, nil},
		{"severity=critical,", []string{"severity=critical"}, nil},
		{`{service=~"pay.*", team!="web",}`, []string{"service=~pay.*", "team!=web"}, nil},
		{`{"service"="checkout"}`, []string{"service=checkout"}, nil},
		{`"team name"=web disk`, []string{"team name=web"}, []string{"disk"}},
		{"foo🙂=bar", []string{"foo🙂=bar"}, nil},
		{`summary="disk full, again"`, []string{"summary=disk full, again"}, nil},
		{"severity=", []string{"severity="}, nil}, // an empty value, as in Alertmanager
		{"severity= pay", []string{"severity="}, []string{"pay"}},
		{`x="\q"`, []string{`x=\q`}, nil}, // the classic reading Alertmanager falls back to
		{"job=~api-\\w+", []string{"job=~api-\\w+"}, nil},
		{"{}", nil, nil},
		{"{} pay", nil, []string{"pay"}},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.in)
		if err != nil {
			t.Errorf("%q: unexpected error %v", c.in, err)
			continue
		}
		var terms []string
		for _, tm := range f.Terms {
			terms = append(terms, tm.Field+string(tm.Op)+tm.Value)
		}
		if !equalStrings(terms, c.terms) || !equalStrings(f.Words, c.words) {
			t.Errorf("%q: got terms %q words %q, want %q %q", c.in, terms, f.Words, c.terms, c.words)
		}
		if f.Empty() != (len(c.terms) == 0 && len(c.words) == 0) {
			t.Errorf("%q: Empty() = %v", c.in, f.Empty())
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseFilterInvalid(t *testing.T) {
	cases := []struct {
		in  string
		pos int
	}{
		{"=critical", 1},
		{"pay !=web", 5},
		{"team<>web", 5},
		{`service=~"pay(.*"`, 10},
		{"service=~pay[", 10},
		{`service="pay`, 13},
		{`"disk full`, 11},
		{`"disk"full`, 7},
		{`service="pay"x`, 14},
		{"@age=10m", 5},
		{"@age>ten", 6},
		{"@sla<", 6},
		{"@acked=maybe", 8},
		{"@acked>1m", 7},
		{"@tier=3", 7},
		{"@tier=~1", 6},
		{"severity<1m", 9},
		{"@colour=red", 1},
		{"@colour", 1},
		{"@=x", 2},
		{"ok  @nope=1", 5},
		{`{severity="critical"`, 21},
		{`{severity="critical"}x`, 22},
		{`{a="b" c="d"}`, 8},
		{"a=b,,c=d", 5},
		{"foo!bar", 4},
		{"service='checkout'", 1},
		{"{@source=am-eu}", 1},
		{`pay {a="x`, 10},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.in)
		if err == nil {
			t.Errorf("%q: parsed as %+v, want an error at %d", c.in, f, c.pos)
			continue
		}
		fe, ok := err.(*FilterError)
		if !ok {
			t.Errorf("%q: error %T, want *FilterError", c.in, err)
			continue
		}
		if fe.Pos != c.pos {
			t.Errorf("%q: error at %d (%s), want at %d", c.in, fe.Pos, fe.Msg, c.pos)
		}
	}
}

func TestFilterMatchSignal(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	sig := &Signal{Service: "payments", Severity: SevCritical, State: StateFiring,
		AlertRow: &AlertRow{Alert: Alert{
			Labels:   LabelsFromMap(map[string]string{"alertname": "HighLatency", "team": "core", "severity": "page"}),
			StartsAt: StampOf(now.Add(-15 * time.Minute))}},
		Sources: []string{"am-eu", "prom"}}
	acked := func(svc string) bool { return svc == "payments" }
	cases := map[string]bool{
		"severity=critical":                  true,
		"severity=warning":                   false,
		`service=~"pay.*"`:                   true,
		`service=~"pay"`:                     false, // anchored
		"team!=web":                          true,
		"team!=core":                         false,
		`region=""`:                          true,
		"@source=am-eu":                      true,
		"@source=am-us":                      false,
		"@source!=prom":                      false,
		"@age>10m":                           true,
		"@age>20m":                           false,
		"@acked=true":                        true,
		"@acked=false":                       false,
		"@state=firing":                      true,
		"@state!=firing":                     false,
		"@tier=1":                            false,
		"@sla<30m":                           false,
		"latency":                            true,
		"latency severity=critical":          true,
		"latency severity=warning":           false,
		"latency nothing-like-it":            false,
		`"highlatency"`:                      true,
		"@age>10m team=core @acked=1":        true,
		`{severity="critical"}`:              true,
		`{severity="warning"}`:               false,
		"severity=critical,team=core":        true,
		"severity=critical,team=web":         false,
		`{"team"="core", alertname=~High.*}`: true,
		"alertname=~high.*":                  false, // case matters in a regexp
		"region=":                            true,
	}
	for q, want := range cases {
		f, err := ParseFilter(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if got := f.MatchSignal(sig, FilterEnv{Now: now, Acked: acked}); got != want {
			t.Errorf("%q: match = %v, want %v", q, got, want)
		}
	}
}

func TestFilterMatchTicket(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tk := &Ticket{Source: "rt-noc", Number: "42", Tier: Tier1, Queue: "noc", Status: "open", Subject: "Checkout slow",
		Created: now.Add(-2 * time.Hour), SLA: TicketSLA{Known: true, Due: now.Add(20 * time.Minute)}, Priority: PriorityHigh}
	it := &TicketItem{Ticket: tk, Service: "checkout"}
	hay := "42\x00checkout slow\x00\x00\x00open\x00noc"
	cases := map[string]bool{
		"@tier=1":                      true,
		"@tier=2":                      false,
		"@tier!=2":                     true,
		"@sla<30m":                     true,
		"@sla<10m":                     false,
		"@sla<0":                       false,
		"@age>1h":                      true,
		"@source=rt-noc":               true,
		"@state=open":                  true,
		"queue=noc":                    true,
		"service=checkout":             true,
		"service=check":                false,
		"priority=P2":                  true,
		"slow":                         true,
		"checkout @tier=2":             false,
		"@acked=false":                 true,
		"severity=critical":            false,
		`owner=""`:                     true,
		"@state=~op.*":                 true,
		"nobody-writes-this":           false,
		`{queue="noc", priority="P2"}`: true,
		"queue=noc,priority=P1":        false,
	}
	for q, want := range cases {
		f, err := ParseFilter(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if got := f.MatchTicket(it, hay, FilterEnv{Now: now}); got != want {
			t.Errorf("%q: match = %v, want %v", q, got, want)
		}
	}
	untimed := &TicketItem{Ticket: &Ticket{Source: "rt-noc", Tier: Tier2}}
	f, _ := ParseFilter("@sla>-1000h")
	if f.MatchTicket(untimed, "", FilterEnv{Now: now}) {
		t.Error("a ticket without an SLA matched @sla")
	}
}

func TestFilterNarrows(t *testing.T) {
	cases := []struct {
		prev, next string
		want       bool
	}{
		{"", "pay", true},
		{"pa", "pay", true},
		{"pay", "pa", false},
		{"pay", "pay api", true},
		{"pay api", "pay", false},
		{"service=pa", "service=pay", false},
		{"severity=critical", "severity=critical pay", true},
		{"severity=critical pay", "severity=critical", false},
		{"pay", "", false},
	}
	for _, c := range cases {
		p, _ := ParseFilter(c.prev)
		n, _ := ParseFilter(c.next)
		if got := n.Narrows(p); got != c.want {
			t.Errorf("%q after %q: Narrows = %v, want %v", c.next, c.prev, got, c.want)
		}
	}
}

func TestFilterQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"checkout", "pay api", `we"ird`, "", "a\\b", "ünï", "x\x00y", "a,b", "x=y", "it's", "{x}", "line\nbreak", "tab\there", "~", "a\\nb"} {
		f, err := ParseFilter("service=" + FilterQuote(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if len(f.Terms) != 1 || f.Terms[0].Value != s || f.Terms[0].Op != OpEq {
			t.Errorf("%q quoted as %q parsed to %+v", s, FilterQuote(s), f.Terms)
		}
	}
	if FilterQuote("checkout") != "checkout" {
		t.Errorf("a plain name is quoted: %s", FilterQuote("checkout"))
	}
}

// FuzzParseFilter: the parser never panics, an error always points into
// the text (or one past its end), and a parsed filter can be evaluated.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "severity=critical", `service=~"pay.*" team!=web`, "@age>10m @acked=false", "@tier=1 @sla<30m",
		`"disk full"`, `x="\q"`, "@", "=", "a=~[", "ü@x=1", `{a="b", c!~"d.*",} e`, "a=b,c!=d", `"a b"=c`, `{foo=bar}}`} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	sig := &Signal{Service: "s", AlertRow: &AlertRow{Alert: Alert{Labels: LabelsFromMap(map[string]string{"alertname": "A", "a": "b"}), StartsAt: StampOf(now)}}, Sources: []string{"am"}}
	it := &TicketItem{Ticket: &Ticket{Source: "rt", Tier: Tier1}}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			fe, ok := err.(*FilterError)
			if !ok {
				t.Fatalf("error %T", err)
			}
			if n := len([]rune(s)); fe.Pos < 1 || fe.Pos > n+1 {
				t.Fatalf("error position %d outside 1..%d", fe.Pos, n+1)
			}
			return
		}
		flt.MatchSignal(sig, FilterEnv{Now: now})
		flt.MatchTicket(it, "", FilterEnv{Now: now})
		if !flt.Narrows(flt) {
			t.Fatalf("a filter does not narrow itself: %q", s)
		}
	})
}
