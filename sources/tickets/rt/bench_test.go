package rt

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"sitroom/sources/tickets"
)

// rtPages renders n tickets as REST2 search pages of 100, as RT sends them.
func rtPages(n int) [][]byte {
	var pages [][]byte
	for start := 0; start < n; start += 100 {
		var b strings.Builder
		b.WriteString(`{"count":100,"page":1,"per_page":100,"total":` + fmt.Sprint(n) + `,"next_page":"http://rt/REST/2.0/tickets?page=2","items":[`)
		for i := start; i < min(start+100, n); i++ {
			if i > start {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"type":"ticket","id":"%d","_url":"http://rt/REST/2.0/ticket/%d","Subject":"edge-%d BGP session down","Status":"open","Priority":"%d",`+
				`"Owner":{"type":"user","id":"Nobody","_url":"http://rt/REST/2.0/user/Nobody"},"Queue":{"type":"queue","id":"3","Name":"NOC","_url":"http://rt/REST/2.0/queue/3"},`+
				`"Requestors":[{"type":"user","id":"ops@example.com","_url":"http://rt/REST/2.0/user/ops@example.com"}],"Created":"2025-11-03T09:14:22Z","LastUpdated":"2025-11-03T09:14:22Z","Due":"1970-01-01T00:00:00Z",`+
				`"CustomFields":[{"id":"1","name":"Service","values":["svc-%d"],"type":"customfield"}]}`, i+1, i+1, i%50, i%100, i%40)
		}
		b.WriteString(`]}`)
		pages = append(pages, []byte(b.String()))
	}
	return pages
}

// BenchmarkDecode100k decodes and maps 100k RT tickets (1,000 pages).
func BenchmarkDecode100k(b *testing.B) {
	pages := rtPages(100_000)
	s, _ := New(Options{Common: tickets.Common{Name: "rt", URL: "http://rt", ServiceField: "Service"},
		Tier1: []string{"NOC"}, Tier2: []string{"NOC-T2"}})
	now := time.Unix(1.7e9, 0)
	var size int
	for _, p := range pages {
		size += len(p)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, p := range pages {
			pg, err := DecodePage(p)
			if err != nil {
				b.Fatal(err)
			}
			for _, it := range pg.Items {
				_ = s.ticket(it, now)
				n++
			}
		}
		if n != 100_000 {
			b.Fatal(n)
		}
	}
}
