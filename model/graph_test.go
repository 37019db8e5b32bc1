package model

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// graphCatalog builds a catalog from "name: dep dep" lines; every service
// matches alerts with its own service label, is owned by team-<name> and
// reachable at #<name>.
func graphCatalog(t testing.TB, spec ...string) *Catalog {
	t.Helper()
	var out []*Service
	for _, line := range spec {
		name, deps, _ := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		ms, err := ParseMatchers(`service="` + name + `"`)
		require.NoError(t, err)
		out = append(out, &Service{
			Name: name, Match: [][]*Matcher{ms}, DependsOn: strings.Fields(deps),
			Owner: "team-" + name, Contacts: []string{"#" + name},
		})
	}
	return NewCatalog(out)
}

// tree renders a dependency tree as "parent>child@depth" pairs, in order.
func tree(nodes []DepNode) []string {
	var out []string
	for _, n := range nodes {
		p := "·"
		if n.Parent >= 0 {
			p = nodes[n.Parent].Service
		}
		out = append(out, fmt.Sprintf("%s>%s@%d", p, n.Service, n.Depth))
	}
	return out
}

func TestImpactTrees(t *testing.T) {
	cases := []struct {
		name       string
		spec       []string
		of         string
		upstream   []string
		downstream []string
	}{
		{
			name:       "chain",
			spec:       []string{"db:", "pay: db", "checkout: pay", "web: checkout"},
			of:         "pay",
			upstream:   []string{"·>db@1"},
			downstream: []string{"·>checkout@1", "checkout>web@2"},
		},
		{
			name: "diamond: the shared dependency sits at its deepest place, once",
			spec: []string{"db:", "left: db", "right: db", "top: left right"},
			of:   "top",
			// db reached through left and right: listed once, under the first by name
			upstream:   []string{"·>left@1", "left>db@2", "·>right@1"},
			downstream: nil,
		},
		{
			name:       "diamond from the bottom",
			spec:       []string{"db:", "left: db", "right: db", "top: left right"},
			of:         "db",
			upstream:   nil,
			downstream: []string{"·>left@1", "left>top@2", "·>right@1"},
		},
		{
			name:       "a shortcut edge does not pull the bottom of the chain up",
			spec:       []string{"db:", "pay: db", "web: pay db"},
			of:         "web",
			upstream:   []string{"·>pay@1", "pay>db@2"},
			downstream: nil,
		},
		{
			name:       "fan-out",
			spec:       []string{"db:", "a: db", "b: db", "c: db", "d: c"},
			of:         "db",
			downstream: []string{"·>a@1", "·>b@1", "·>c@1", "c>d@2"},
		},
		{
			name:       "disconnected components stay apart",
			spec:       []string{"db:", "pay: db", "search:", "index: search"},
			of:         "search",
			downstream: []string{"·>index@1"},
		},
		{
			name: "isolated service",
			spec: []string{"db:", "lonely:"},
			of:   "lonely",
		},
		{
			name:       "unknown dependency is left out",
			spec:       []string{"db:", "pay: db paymnts"},
			of:         "pay",
			upstream:   []string{"·>db@1"},
			downstream: nil,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat := graphCatalog(t, c.spec...)
			assert.Empty(t, cat.Cycles())
			im := cat.Impact(c.of)
			require.NotNil(t, im)
			assert.Equal(t, c.upstream, tree(im.Upstream), "upstream")
			assert.Equal(t, c.downstream, tree(im.Downstream), "downstream")
			assert.Same(t, im, cat.Impact(c.of), "computed once per catalog")
		})
	}
	assert.Nil(t, graphCatalog(t, "db:").Impact("not-in-catalog"), "no claims for a service with no entry")
	var nilCat *Catalog
	assert.Nil(t, nilCat.Impact("db"))
}

func TestCyclesAreFoundAndNotFollowed(t *testing.T) {
	cases := []struct {
		name   string
		spec   []string
		cycles [][]string
	}{
		{"self-dependency", []string{"a: a b", "b:"}, [][]string{{"a", "a"}}},
		{"two services", []string{"a: b", "b: a"}, [][]string{{"a", "b", "a"}}},
		{"three services", []string{"x:", "a: b", "b: c", "c: a x"}, [][]string{{"a", "b", "c", "a"}}},
		{"two separate cycles", []string{"a: b", "b: a", "c: d", "d: c"}, [][]string{{"a", "b", "a"}, {"c", "d", "c"}}},
		{"a diamond is no cycle", []string{"db:", "l: db", "r: db", "t: l r"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat := graphCatalog(t, c.spec...)
			assert.Equal(t, c.cycles, cat.Cycles())
			for _, s := range cat.Services { // every walk terminates and lists a service at most once
				im := cat.Impact(s.Name)
				for _, nodes := range [][]DepNode{im.Upstream, im.Downstream} {
					seen := map[string]bool{}
					for _, n := range nodes {
						assert.False(t, seen[n.Service], "%s listed twice", n.Service)
						assert.NotEqual(t, s.Name, n.Service, "a service is not its own dependency")
						seen[n.Service] = true
					}
				}
			}
		})
	}
}

func TestNotifyListsEveryImpactedTeamOnce(t *testing.T) {
	var svcs []*Service
	add := func(name, owner string, contacts []string, deps ...string) {
		svcs = append(svcs, &Service{Name: name, Owner: owner, Contacts: contacts, DependsOn: deps})
	}
	add("db", "team-data", []string{"#data", "data@example.com"})
	add("pay", "team-pay", []string{"#pay", "#noc"}, "db")
	add("checkout", "team-web", []string{"#web"}, "pay")
	add("web", "team-web", []string{"#web", "web@example.com"}, "checkout")
	add("admin", "", []string{"#noc"}, "db")
	add("search", "team-search", []string{"#search"}) // not impacted
	cat := NewCatalog(svcs)
	got := cat.Impact("db").Notify
	require.Len(t, got, 4)
	assert.Equal(t, Team{Owner: "team-data", Contacts: []string{"#data", "data@example.com"}, Services: []string{"db"}}, got[0], "the service's own team first")
	// admin and pay are both one step down: in tree order (by name) admin comes first and claims #noc.
	require.Len(t, got, 4)
	assert.Equal(t, Team{Owner: "", Contacts: []string{"#noc"}, Services: []string{"admin"}}, got[1])
	assert.Equal(t, Team{Owner: "team-pay", Contacts: []string{"#pay"}, Services: []string{"pay"}}, got[2], "#noc is not repeated")
	assert.Equal(t, Team{Owner: "team-web", Contacts: []string{"#web", "web@example.com"}, Services: []string{"checkout", "web"}}, got[3])
	assert.Equal(t, []Team{{Owner: "team-search", Contacts: []string{"#search"}, Services: []string{"search"}}}, cat.Impact("search").Notify)
}

// outageSnap builds a snapshot where each named service has one critical
// firing alert, opened in the given order one minute apart.
func outageSnap(cat *Catalog, down ...string) *Snapshot {
	var rows []*AlertRow
	for i, svc := range down {
		rows = append(rows, row("am", "Down", "critical", svc, StateFiring, t0.Add(time.Duration(i-len(down))*time.Minute)))
	}
	return BuildSnapshot(rows, []SourceStatus{okStatus("am")}, SnapshotOptions{Now: t0, Catalog: cat})
}

// nesting renders the outages as "cause[symptom symptom]" in snapshot order,
// skipping symptoms at the top level.
func nesting(s *Snapshot) []string {
	var out []string
	for _, o := range s.Outages {
		if o.IsSymptom() {
			continue
		}
		var sym []string
		for _, x := range o.Symptoms {
			sym = append(sym, x.Service)
		}
		out = append(out, o.Service+"["+strings.Join(sym, " ")+"]")
	}
	return out
}

func TestProbableCauseAndNesting(t *testing.T) {
	chain := []string{"db:", "pay: db", "checkout: pay", "web: checkout"}
	diamond := []string{"db:", "left: db", "right: db", "top: left right"}
	cases := []struct {
		name    string
		spec    []string
		down    []string          // services with an outage, in opening order
		cause   map[string]string // outage → probable cause ("" for none)
		nesting []string
	}{
		{
			name:    "chain: the bottom is the cause of everything above it",
			spec:    chain,
			down:    []string{"db", "pay", "checkout", "web"},
			cause:   map[string]string{"db": "", "pay": "db", "checkout": "db", "web": "db"},
			nesting: []string{"db[pay checkout web]"},
		},
		{
			name:    "chain with a healthy link: the cause is still the deepest failing upstream",
			spec:    chain,
			down:    []string{"db", "web"},
			cause:   map[string]string{"db": "", "web": "db"},
			nesting: []string{"db[web]"},
		},
		{
			name:    "chain, bottom recovered: the middle leads",
			spec:    chain,
			down:    []string{"pay", "checkout", "web"},
			cause:   map[string]string{"pay": "", "checkout": "pay", "web": "pay"},
			nesting: []string{"pay[checkout web]"},
		},
		{
			name:    "diamond",
			spec:    diamond,
			down:    []string{"db", "left", "top"},
			cause:   map[string]string{"db": "", "left": "db", "top": "db"},
			nesting: []string{"db[left top]"},
		},
		{
			name:    "diamond, two failing sides at one depth: the first to open is the cause",
			spec:    diamond,
			down:    []string{"right", "left", "top"},
			cause:   map[string]string{"right": "", "left": "", "top": "right"},
			nesting: []string{"right[top]", "left[]"},
		},
		{
			name:    "fan-out",
			spec:    []string{"db:", "a: db", "b: db", "c: db"},
			down:    []string{"db", "a", "c"},
			cause:   map[string]string{"db": "", "a": "db", "c": "db"},
			nesting: []string{"db[a c]"},
		},
		{
			name:    "disconnected outages are both causes",
			spec:    []string{"db:", "pay: db", "search:", "index: search"},
			down:    []string{"pay", "index"},
			cause:   map[string]string{"pay": "", "index": ""},
			nesting: []string{"pay[]", "index[]"},
		},
		{
			name:    "a downstream outage is no cause of an upstream one",
			spec:    chain,
			down:    []string{"web", "pay"},
			cause:   map[string]string{"web": "pay", "pay": ""},
			nesting: []string{"pay[web]"},
		},
		{
			name:    "unmapped outages claim nothing",
			spec:    chain,
			down:    []string{"db", "legacy", "pay"},
			cause:   map[string]string{"db": "", "legacy": "", "pay": "db"},
			nesting: []string{"db[pay]", "legacy[]"},
		},
		{
			name:    "a cycle does not hang or nest an outage under itself",
			spec:    []string{"a: b", "b: a"},
			down:    []string{"a", "b"},
			cause:   map[string]string{"a": "", "b": ""},
			nesting: []string{"a[]", "b[]"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat := graphCatalog(t, c.spec...)
			snap := outageSnap(cat, c.down...)
			require.Len(t, snap.Outages, len(c.down))
			got := map[string]string{}
			for _, o := range snap.Outages {
				got[o.Service] = o.ProbableCause
				assert.Equal(t, o.Impact == nil, cat.Lookup(o.Service) == nil, "%s: impact only for catalog services", o.Service)
				assert.Same(t, o, snap.Outage(o.Service))
			}
			assert.Equal(t, c.cause, got)
			assert.Equal(t, c.nesting, nesting(snap))
		})
	}
}

// When the upstream outage resolves, its symptoms become causes again in
// the next snapshot.
func TestSymptomsUnNestWhenTheCauseRecovers(t *testing.T) {
	cat := graphCatalog(t, "db:", "pay: db", "checkout: pay")
	before := outageSnap(cat, "db", "pay", "checkout")
	assert.Equal(t, []string{"db[pay checkout]"}, nesting(before))
	after := outageSnap(cat, "pay", "checkout")
	assert.Equal(t, []string{"pay[checkout]"}, nesting(after))
	after = outageSnap(cat, "checkout")
	assert.Equal(t, []string{"checkout[]"}, nesting(after))
	assert.Equal(t, []string{"db[pay checkout]"}, nesting(before), "an older snapshot is never changed")
}

func TestServiceStateCountsEverySignal(t *testing.T) {
	cat := graphCatalog(t, "db:", "pay: db")
	rows := []*AlertRow{
		row("am", "Slow", "warning", "db", StateFiring, t0),
		row("am", "Soon", "critical", "db", StatePending, t0),
		row("am", "Down", "critical", "pay", StateFiring, t0),
		row("am", "Quiet", "critical", "pay", StateSuppressed, t0),
	}
	snap := BuildSnapshot(rows, []SourceStatus{okStatus("am")}, SnapshotOptions{Now: t0, Catalog: cat})
	db := snap.Service("db")
	assert.Equal(t, ServiceState{Firing: 1, Severity: SevWarning, Pending: 1}, db, "a warning is no outage")
	pay := snap.Service("pay")
	assert.Equal(t, 1, pay.Firing)
	assert.Equal(t, 1, pay.Suppressed)
	require.NotNil(t, pay.Outage)
	assert.Equal(t, "", pay.Outage.ProbableCause, "an upstream warning is not an outage, so not a cause")
	assert.False(t, pay.TicketsKnown, "no ticket source yet")
	assert.Equal(t, ServiceState{}, snap.Service("web"))
}

// benchGraph is a random acyclic catalog: service i depends only on
// services with a higher index, so there are no cycles.
func benchGraph(b *testing.B, n, edges int) *Catalog {
	r := rand.New(rand.NewPCG(1, 2))
	svcs := make([]*Service, n)
	for i := range svcs {
		svcs[i] = &Service{Name: fmt.Sprintf("svc-%04d", i), Owner: fmt.Sprintf("team-%d", i%300), Contacts: []string{fmt.Sprintf("#chan-%d", i%300)}}
	}
	for e := 0; e < edges; {
		a, c := r.IntN(n), r.IntN(n)
		if a == c {
			continue
		}
		if a > c {
			a, c = c, a
		}
		svcs[a].DependsOn = append(svcs[a].DependsOn, svcs[c].Name)
		e++
	}
	return NewCatalog(svcs)
}

// BenchmarkNewCatalog5k builds the graph of 5,000 services and 20,000
// edges: once per config load.
func BenchmarkNewCatalog5k(b *testing.B) {
	cat := benchGraph(b, 5000, 20000)
	svcs := cat.Services
	b.ReportAllocs()
	for b.Loop() {
		NewCatalog(svcs)
	}
}

// BenchmarkImpactPerSnapshot5k is the per-snapshot cost of impact over a
// 5,000-service, 20,000-edge catalog with 20 open outages (trees already
// cached from earlier snapshots): attaching impacts, probable causes and
// nesting.
func BenchmarkImpactPerSnapshot5k(b *testing.B) {
	cat := benchGraph(b, 5000, 20000)
	list, by := benchOutages(cat, 20)
	linkCauses(list, by, cat) // warm the per-catalog cache
	b.ReportAllocs()
	for b.Loop() {
		for _, o := range list {
			o.Symptoms, o.ProbableCause = o.Symptoms[:0], ""
		}
		linkCauses(list, by, cat)
	}
}

// BenchmarkImpactColdService5k is the one-off cost of a service's trees
// the first time it has an outage: both closures and the notify list.
func BenchmarkImpactColdService5k(b *testing.B) {
	cat := benchGraph(b, 5000, 20000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		cat.graph.impacts = map[int32]*Impact{}
		cat.Impact(cat.Services[(i*97)%5000].Name)
		i++
	}
}

func benchOutages(cat *Catalog, k int) ([]*Outage, map[string]*Outage) {
	var list []*Outage
	by := map[string]*Outage{}
	for i := 0; i < k; i++ {
		o := &Outage{Service: cat.Services[(i*251)%len(cat.Services)].Name, Since: t0.Add(time.Duration(i) * time.Second)}
		list = append(list, o)
		by[o.Service] = o
	}
	return list, by
}

func TestReissueSharesSignalsAndCopiesWhatIsAdjusted(t *testing.T) {
	cat := graphCatalog(t, "db:", "pay: db", "checkout: pay")
	base := outageSnap(cat, "db", "pay", "checkout")
	later := t0.Add(time.Minute)
	re := base.Reissue(later, base.Sources)
	assert.Equal(t, later, re.Built)
	assert.Equal(t, t0, base.Built)
	require.Len(t, re.Signals, len(base.Signals))
	for i := range re.Signals {
		assert.Same(t, base.Signals[i], re.Signals[i], "signals are shared")
	}
	assert.Equal(t, nesting(base), nesting(re))
	for i, o := range re.Outages {
		assert.NotSame(t, base.Outages[i], o)
		assert.Same(t, o, re.Outage(o.Service), "a service state points at the copy")
		for _, x := range o.Symptoms {
			assert.Same(t, x, re.Outage(x.Service), "symptoms are the copies")
		}
	}
	// What is done to a snapshot about to be published leaves the
	// one it was reissued from as it was.
	since := base.Outage("db").Since
	KeepStarts(re, map[string]time.Time{"db": since.Add(-time.Hour)})
	AttachTickets(re, []*Ticket{{Source: "desk", ID: "1", Tier: Tier1, Service: "db"}}, []string{"desk"}, cat)
	assert.Equal(t, since.Add(-time.Hour), re.Outage("db").Since)
	assert.Equal(t, since, base.Outage("db").Since)
	assert.Empty(t, base.Tickets)
	assert.Equal(t, 0, base.Service("db").Tickets)
}
