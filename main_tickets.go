package main

import (
	"fmt"

	"sitroom/model/config"
	"sitroom/sources/tickets"
	"sitroom/sources/tickets/jira"
	"sitroom/sources/tickets/rt"
	"sitroom/sources/tickets/servicenow"
)

// ticketFactories is the registry of ticket source types; each builds its
// client (with the source's HTTP client settings) from a validated entry.
var ticketFactories = map[string]func(cfg config.Source) (tickets.TicketSource, error){
	config.TypeRT:         func(cfg config.Source) (tickets.TicketSource, error) { return rt.FromConfig(cfg) },
	config.TypeJira:       func(cfg config.Source) (tickets.TicketSource, error) { return jira.FromConfig(cfg) },
	config.TypeServiceNow: func(cfg config.Source) (tickets.TicketSource, error) { return servicenow.FromConfig(cfg) },
}

// newTicketSource builds the ticket source a config entry describes.
func newTicketSource(sc config.Source) (tickets.TicketSource, error) {
	f := ticketFactories[sc.Type]
	if f == nil {
		return nil, fmt.Errorf("unsupported ticket source type %q", sc.Type)
	}
	return f(sc)
}

// ticketSources builds one client per configured ticket source, by name,
// for the dispatcher's escalations and takes.
func ticketSources(cfg *config.Config) (map[string]tickets.TicketSource, error) {
	out := map[string]tickets.TicketSource{}
	for i, sc := range cfg.Sources {
		if !config.IsTicketType(sc.Type) {
			continue
		}
		ts, err := newTicketSource(sc)
		if err != nil {
			return nil, fmt.Errorf("sources[%d] (%s): %w", i, sc.Name, err)
		}
		out[sc.Name] = ts
	}
	return out, nil
}
