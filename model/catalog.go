package model

import "sync"

// Service is one entry of the service catalog.
type Service struct {
	Name string
	// Match holds alternatives: an alert belongs to the service when every
	// matcher of any one alternative matches its labels.
	Match     [][]*Matcher
	DependsOn []string
	Owner     string
	Contacts  []string
	Runbook   string
}

// Catalog maps alerts to services. The first service (in config order)
// whose matchers match wins. It also holds the dependency graph of the
// services (depends_on), built once by NewCatalog.
//
// A Catalog is safe for concurrent use; its services must not be modified
// after NewCatalog.
type Catalog struct {
	Services []*Service
	byName   map[string]*Service
	graph    *depGraph

	// links remembers the service each ticket links to (see
	// AttachTickets): tickets are immutable and replaced when they change,
	// so a ticket seen in the last snapshot needs no matching again.
	linksMu sync.Mutex
	links   map[*Ticket]string
}

// NewCatalog indexes services by name and builds their dependency graph:
// adjacency both ways, a topological order and the cycles found.
// Dependencies on unknown services and on the service itself are left out
// of the graph (config validation reports them; a self-dependency is also
// listed by Cycles). For a duplicated name the first entry's dependencies
// count.
func NewCatalog(services []*Service) *Catalog {
	c := &Catalog{Services: services, byName: make(map[string]*Service, len(services))}
	for _, s := range services {
		if _, dup := c.byName[s.Name]; !dup {
			c.byName[s.Name] = s
		}
	}
	c.graph = newDepGraph(services)
	return c
}

// Cycles lists every dependency cycle found, each as a path that ends
// where it starts ("a", "b", "a"); a self-dependency is ("a", "a"). A
// validated configuration has none; a catalog with cycles still works, its
// trees simply do not follow an edge twice.
func (c *Catalog) Cycles() [][]string {
	if c == nil {
		return nil
	}
	return c.graph.cycles
}

// Impact is the named service's place in the dependency graph: its
// upstream and downstream trees and the teams to tell when it is down. It
// is nil for a service with no catalog entry: no dependency is claimed for
// it. The result is computed on first use, cached, and must not be
// modified.
func (c *Catalog) Impact(service string) *Impact {
	if c == nil {
		return nil
	}
	i, ok := c.graph.index[service]
	if !ok {
		return nil
	}
	return c.graph.impact(i, c)
}

// Lookup returns the named service, or nil.
func (c *Catalog) Lookup(name string) *Service {
	if c == nil {
		return nil
	}
	return c.byName[name]
}

// Unmapped is the service name for alerts with no catalog entry and no
// service or job label.
const Unmapped = "unmapped"

// ServiceFor names the service an alert belongs to, and whether the name
// came from the catalog. Alerts no catalog entry claims fall back to their
// `service` label, then `job`, then Unmapped.
func (c *Catalog) ServiceFor(labels Labels) (name string, mapped bool) {
	if c != nil {
		for _, s := range c.Services {
			for _, alt := range s.Match {
				if MatchAll(alt, labels) {
					return s.Name, true
				}
			}
		}
	}
	if v := labels.Get("service"); v != "" {
		return v, false
	}
	if v := labels.Get("job"); v != "" {
		return v, false
	}
	return Unmapped, false
}
