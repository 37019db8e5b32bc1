package servicenow

import (
	"sitroom/model/config"
	"sitroom/sources/tickets"
)

func init() {
	tickets.Register(config.TypeServiceNow, func(sc config.Source) (tickets.TicketSource, error) { return FromConfig(sc) })
}
