package model

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
// whose matchers match wins.
type Catalog struct {
	Services []*Service
	byName   map[string]*Service
}

// NewCatalog indexes services by name.
func NewCatalog(services []*Service) *Catalog {
	c := &Catalog{Services: services, byName: make(map[string]*Service, len(services))}
	for _, s := range services {
		c.byName[s.Name] = s
	}
	return c
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
func (c *Catalog) ServiceFor(labels map[string]string) (name string, mapped bool) {
	if c != nil {
		for _, s := range c.Services {
			for _, alt := range s.Match {
				if MatchAll(alt, labels) {
					return s.Name, true
				}
			}
		}
	}
	if v := labels["service"]; v != "" {
		return v, false
	}
	if v := labels["job"]; v != "" {
		return v, false
	}
	return Unmapped, false
}
