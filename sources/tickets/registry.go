package tickets

import (
	"fmt"

	"sitroom/model/config"
	"sitroom/sources"
)

// Ticket sources by type: rt, jira, servicenow. Each desk's package
// registers its type in its init function.
var desks = sources.NewRegistry[TicketSource]("ticket source")

// Register makes the ticket source type typ available to New.
func Register(typ string, f func(config.Source) (TicketSource, error)) { desks.Register(typ, f) }

// New builds the ticket source a config entry describes, by its type,
// with the entry's HTTP client settings.
func New(sc config.Source) (TicketSource, error) { return desks.New(sc) }

// FromConfig builds one client per configured ticket source, by source
// name, for the dispatcher's escalations and takes.
func FromConfig(cfg *config.Config) (map[string]TicketSource, error) {
	out := map[string]TicketSource{}
	for i, sc := range cfg.Sources {
		if !config.IsTicketType(sc.Type) {
			continue
		}
		ts, err := New(sc)
		if err != nil {
			return nil, fmt.Errorf("sources[%d] (%s): %w", i, sc.Name, err)
		}
		out[sc.Name] = ts
	}
	return out, nil
}
