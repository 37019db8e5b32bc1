package rt

import (
	"sitroom/model/config"
	"sitroom/sources/tickets"
)

func init() {
	tickets.Register(config.TypeRT, func(sc config.Source) (tickets.TicketSource, error) { return FromConfig(sc) })
}
