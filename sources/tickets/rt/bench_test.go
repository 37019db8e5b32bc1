package rt

import (
	"fmt"
	"io"
	"testing"
	"time"

	"sitroom/sources/tickets"
	"sitroom/sources/tickets/desktest"
)

// BenchmarkDecode100k decodes and maps 100k RT tickets (1,000 REST2
// search pages of 100, as RT sends them).
func BenchmarkDecode100k(b *testing.B) {
	const n = 100_000
	pages, size := desktest.Pages(n, `{"count":100,"page":1,"per_page":100,"total":`+fmt.Sprint(n)+`,"next_page":"http://rt/REST/2.0/tickets?page=2","items":[`, `]}`, func(w io.Writer, i int) {
		fmt.Fprintf(w, `{"type":"ticket","id":"%d","_url":"http://rt/REST/2.0/ticket/%d","Subject":"edge-%d BGP session down","Status":"open","Priority":"%d",`+
			`"Owner":{"type":"user","id":"Nobody","_url":"http://rt/REST/2.0/user/Nobody"},"Queue":{"type":"queue","id":"3","Name":"NOC","_url":"http://rt/REST/2.0/queue/3"},`+
			`"Requestors":[{"type":"user","id":"ops@example.com","_url":"http://rt/REST/2.0/user/ops@example.com"}],"Created":"2025-11-03T09:14:22Z","LastUpdated":"2025-11-03T09:14:22Z","Due":"1970-01-01T00:00:00Z",`+
			`"CustomFields":[{"id":"1","name":"Service","values":["svc-%d"],"type":"customfield"}]}`, i+1, i+1, i%50, i%100, i%40)
	})
	s, _ := New(Options{Common: tickets.Common{Name: "rt", URL: "http://rt", ServiceField: "Service"},
		Tier1: []string{"NOC"}, Tier2: []string{"NOC-T2"}})
	now := time.Unix(1.7e9, 0)
	desktest.Bench(b, pages, size, n, func(p []byte) (int, error) {
		pg, err := DecodePage(p)
		if err != nil {
			return 0, err
		}
		for _, it := range pg.Items {
			_ = s.ticket(it, now)
		}
		return len(pg.Items), nil
	})
}
