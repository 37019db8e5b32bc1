package model

import (
	"sort"
	"sync"
)

// DepNode is one service in an outage's upstream or downstream tree.
// Trees are flattened in pre-order: a node's children follow it, one level
// deeper. Every service appears once, at its deepest position (the longest
// dependency path from the outage's service), so the bottom of a chain is
// drawn at the bottom even when a shortcut edge also reaches it.
type DepNode struct {
	Service string
	Owner   string
	// Depth is 1 for a direct dependency (or direct dependent), 2 for one
	// of theirs, and so on.
	Depth int
	// Parent is the index in the same slice of the node this one hangs
	// under, or -1 under the outage's service itself.
	Parent int
}

// Team is one owner to tell about an outage, with every contact of the
// impacted services it owns (de-duplicated across the whole list) and
// which of those services are its.
type Team struct {
	Owner    string // "" for services with no owner in the catalog
	Contacts []string
	Services []string
}

// Impact is a catalog service's place in the dependency graph. It depends
// on the catalog alone, so it is computed once per service and shared by
// every snapshot; it is never modified after it is built.
type Impact struct {
	Service string
	// Upstream is everything the service depends on, transitively.
	Upstream []DepNode
	// Downstream is everything that depends on the service, transitively:
	// what an outage of it impacts.
	Downstream []DepNode
	// Notify lists the owners and contacts of the service itself and of
	// every downstream service, nearest first.
	Notify []Team
}

// depGraph is the dependency graph of a catalog, with node indices in
// config order. It is built once by NewCatalog; impacts are computed on
// first use and cached (guarded by mu) so later snapshots only look them up.
type depGraph struct {
	names  []string
	owners []string
	index  map[string]int32
	deps   [][]int32 // what each service depends on (known, no self, no duplicates)
	rdeps  [][]int32 // what depends on each service
	pos    []int32   // position in a topological order, dependents first
	cycles [][]string

	mu      sync.Mutex
	impacts map[int32]*Impact
	// scratch for closures, used under mu
	mark   []uint32
	gen    uint32
	dist   []int32
	parent []int32
}

// maxCachedImpacts bounds the impact cache; past it the cache starts over.
const maxCachedImpacts = 1024

func newDepGraph(services []*Service) *depGraph {
	g := &depGraph{index: make(map[string]int32, len(services)), impacts: map[int32]*Impact{}}
	var kept []*Service
	for _, s := range services {
		if _, dup := g.index[s.Name]; dup {
			continue
		}
		g.index[s.Name] = int32(len(g.names))
		g.names = append(g.names, s.Name)
		g.owners = append(g.owners, s.Owner)
		kept = append(kept, s)
	}
	n := len(g.names)
	g.deps = make([][]int32, n)
	g.rdeps = make([][]int32, n)
	for i, s := range kept {
		for _, d := range s.DependsOn {
			j, ok := g.index[d]
			if !ok {
				continue // unknown: config validation reports it
			}
			if int(j) == i {
				g.cycles = append(g.cycles, []string{s.Name, s.Name})
				continue
			}
			if containsID(g.deps[i], j) {
				continue
			}
			g.deps[i] = append(g.deps[i], j)
			g.rdeps[j] = append(g.rdeps[j], int32(i))
		}
	}
	g.order()
	g.findCycles()
	g.mark = make([]uint32, n)
	g.dist = make([]int32, n)
	g.parent = make([]int32, n)
	return g
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// order computes a topological order (Kahn, dependents before their
// dependencies); services on a cycle come last, in config order.
func (g *depGraph) order() {
	n := len(g.names)
	g.pos = make([]int32, n)
	indeg := make([]int, n)
	for i := range g.deps {
		for _, j := range g.deps[i] {
			indeg[j]++
		}
	}
	queue := make([]int32, 0, n)
	for i := 0; i < n; i++ {
		if indeg[i] == 0 {
			queue = append(queue, int32(i))
		}
	}
	placed := make([]bool, n)
	for k := 0; k < len(queue); k++ {
		u := queue[k]
		placed[u] = true
		g.pos[u] = int32(k)
		for _, v := range g.deps[u] {
			if indeg[v]--; indeg[v] == 0 {
				queue = append(queue, v)
			}
		}
	}
	next := int32(len(queue))
	for i := 0; i < n; i++ {
		if !placed[i] {
			g.pos[i] = next
			next++
		}
	}
}

// findCycles walks the graph depth first in config order and records the
// cycle closed by every back edge, as a path that ends where it starts.
func (g *depGraph) findCycles() {
	n := len(g.names)
	const (
		white = iota
		grey
		black
	)
	color := make([]uint8, n)
	type frame struct {
		node int32
		next int
	}
	var stack []frame
	for root := 0; root < n; root++ {
		if color[root] != white {
			continue
		}
		stack = append(stack[:0], frame{node: int32(root)})
		color[root] = grey
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next == len(g.deps[top.node]) {
				color[top.node] = black
				stack = stack[:len(stack)-1]
				continue
			}
			v := g.deps[top.node][top.next]
			top.next++
			switch color[v] {
			case white:
				color[v] = grey
				stack = append(stack, frame{node: v})
			case grey:
				var path []string
				on := false
				for _, f := range stack {
					if f.node == v {
						on = true
					}
					if on {
						path = append(path, g.names[f.node])
					}
				}
				g.cycles = append(g.cycles, append(path, g.names[v]))
			}
		}
	}
}

// impact returns the cached impact of node i, computing it on first use.
func (g *depGraph) impact(i int32, catalog *Catalog) *Impact {
	g.mu.Lock()
	defer g.mu.Unlock()
	if im := g.impacts[i]; im != nil {
		return im
	}
	im := &Impact{Service: g.names[i]}
	im.Upstream = g.closure(i, g.deps, 1)
	im.Downstream = g.closure(i, g.rdeps, -1)
	im.Notify = g.notify(i, im.Downstream, catalog)
	if len(g.impacts) >= maxCachedImpacts {
		g.impacts = map[int32]*Impact{}
	}
	g.impacts[i] = im
	return im
}

// closure lays out everything reachable from s along adj as a tree in
// pre-order. dir is +1 when adj follows the topological order (upstream)
// and -1 when it runs against it (downstream). In an acyclic graph each
// node hangs under the neighbour that gives it the longest path from s; a
// graph with a cycle (never a validated config) falls back to the
// breadth-first tree, which still terminates.
func (g *depGraph) closure(s int32, adj [][]int32, dir int32) []DepNode {
	g.gen++
	if g.gen == 0 { // wrapped: clear the marks once
		clear(g.mark)
		g.gen = 1
	}
	gen := g.gen
	reach := []int32{s}
	g.mark[s] = gen
	g.dist[s], g.parent[s] = 0, -1
	for k := 0; k < len(reach); k++ {
		u := reach[k]
		for _, v := range adj[u] {
			if g.mark[v] != gen {
				g.mark[v] = gen
				g.dist[v], g.parent[v] = g.dist[u]+1, u
				reach = append(reach, v)
			}
		}
	}
	if len(reach) == 1 {
		return nil
	}
	if len(g.cycles) == 0 {
		sort.Slice(reach, func(a, b int) bool { return dir*g.pos[reach[a]] < dir*g.pos[reach[b]] })
		for _, u := range reach { // s comes first: nothing reachable precedes it
			for _, v := range adj[u] {
				if g.dist[u]+1 > g.dist[v] {
					g.dist[v], g.parent[v] = g.dist[u]+1, u
				}
			}
		}
	}
	// children lists, by name
	children := make(map[int32][]int32, len(reach))
	for _, v := range reach {
		if v != s {
			children[g.parent[v]] = append(children[g.parent[v]], v)
		}
	}
	for _, c := range children {
		sort.Slice(c, func(a, b int) bool { return g.names[c[a]] < g.names[c[b]] })
	}
	out := make([]DepNode, 0, len(reach)-1)
	type frame struct {
		node   int32
		parent int // index in out of the node it hangs under, -1 for s
	}
	stack := []frame{{s, -1}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		me := -1
		if f.node != s {
			me = len(out)
			out = append(out, DepNode{Service: g.names[f.node], Owner: g.owners[f.node], Depth: int(g.dist[f.node]), Parent: f.parent})
		}
		kids := children[f.node]
		for k := len(kids) - 1; k >= 0; k-- {
			stack = append(stack, frame{kids[k], me})
		}
	}
	return out
}

// notify groups the owners and contacts of s and of its downstream
// services, nearest first; each contact is listed once.
func (g *depGraph) notify(s int32, down []DepNode, catalog *Catalog) []Team {
	order := make([]string, 0, len(down)+1)
	order = append(order, g.names[s])
	byDepth := make([]DepNode, len(down))
	copy(byDepth, down)
	sort.SliceStable(byDepth, func(a, b int) bool { return byDepth[a].Depth < byDepth[b].Depth })
	for _, n := range byDepth {
		order = append(order, n.Service)
	}
	var teams []Team
	teamOf := map[string]int{}
	seen := map[string]bool{}
	for _, name := range order {
		svc := catalog.byName[name]
		if svc == nil {
			continue
		}
		k, ok := teamOf[svc.Owner]
		if !ok {
			k = len(teams)
			teamOf[svc.Owner] = k
			teams = append(teams, Team{Owner: svc.Owner})
		}
		t := &teams[k]
		t.Services = append(t.Services, name)
		for _, c := range svc.Contacts {
			if c == "" || seen[c] {
				continue
			}
			seen[c] = true
			t.Contacts = append(t.Contacts, c)
		}
	}
	return teams
}
