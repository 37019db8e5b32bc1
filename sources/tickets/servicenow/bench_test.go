package servicenow

import (
	"fmt"
	"io"
	"testing"

	"sitroom/sources/tickets"
	"sitroom/sources/tickets/desktest"
)

// BenchmarkDecode100k decodes and maps 100k ServiceNow incidents (Table
// API pages of 100, the fields Fetch asks for).
func BenchmarkDecode100k(b *testing.B) {
	pages, size := desktest.Pages(100_000, `{"result":[`, `]}`, func(w io.Writer, i int) {
		fmt.Fprintf(w, `{"sys_id":"%032x","number":"INC%07d","short_description":"edge-%d BGP session down","priority":"%d","state":"2",`+
			`"assignment_group":"a1b2c3d4e5f60718293a4b5c6d7e8f90","assignment_group.name":"NOC Tier 1","assigned_to":"","assigned_to.name":"","caller_id.name":"Mia Krystof",`+
			`"opened_at":"2025-11-03 07:52:10","sys_updated_on":"2025-11-03 09:14:22","cmdb_ci":"e0000000000000000000000000000001","cmdb_ci.name":"svc-%d"}`,
			i, i, i%50, 1+i%5, i%40)
	})
	s, _ := New(Options{Common: tickets.Common{Name: "snow", URL: "https://acme.service-now.com", ServiceField: "cmdb_ci"},
		Tier1: []string{"NOC Tier 1"}, Tier2: []string{"NOC Tier 2"}})
	desktest.Bench(b, pages, size, 100_000, func(p []byte) (int, error) {
		r, err := DecodeRecords(p)
		if err != nil {
			return 0, err
		}
		for _, rec := range r.Result {
			_ = s.ticket(rec)
		}
		return len(r.Result), nil
	})
}
