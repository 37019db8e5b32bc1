package jira

import (
	"sitroom/model/config"
	"sitroom/sources/tickets"
)

func init() {
	tickets.Register(config.TypeJira, func(sc config.Source) (tickets.TicketSource, error) { return FromConfig(sc) })
}
