package rt

import (
	"testing"
	"time"

	"sitroom/sources/tickets"
)

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"count":1,"page":1,"per_page":2,"total":5,"next_page":"x","items":[{"type":"ticket","id":"4711","Subject":"s","Status":"open","Priority":"60","LastUpdated":"2025-11-03T09:14:22Z","Owner":{"type":"user","id":"Nobody"},"Queue":{"id":"3","Name":"NOC"},"CustomFields":""}]}`))
	f.Add([]byte(`{"items":[{"id":"1","Owner":"","Queue":"","CustomFields":[{"name":"Service","values":["a"]}],"Requestors":[{"id":"x"}]}]}`))
	f.Add([]byte(`{"items":[{"id":2}]}`))
	s, _ := New(Options{Common: tickets.Common{Name: "f", URL: "http://rt", ServiceField: "Service"},
		Tier1: []string{"NOC"}, Tier2: []string{"T2"}})
	now := time.Unix(1e9, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePage(b)
		if err != nil {
			return
		}
		for _, it := range p.Items {
			tk := s.ticket(it, now)
			if tk.ID == "" || tk.Source != "f" {
				t.Fatalf("a decoded ticket lost its identity: %+v", tk)
			}
		}
	})
}
