package jira

import (
	"os"
	"testing"
	"time"

	"sitroom/sources/tickets"
)

func FuzzDecodeSearch(f *testing.F) {
	if b, err := os.ReadFile("../../../testdata/jira/search_jql.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"issues":[{"id":"1","key":"K-1","fields":{"summary":1,"assignee":"x","components":[{"value":"a"}],"customfield_10030":{"ongoingCycle":{}}}}]}`))
	s, _ := New(Options{Common: tickets.Common{Name: "f", URL: "http://jira", ServiceField: "components"},
		Tier1JQL: "a", Tier2JQL: "b", SLAField: "customfield_10030"})
	now := time.Unix(1e9, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeSearch(b)
		if err != nil {
			return
		}
		for i := range p.Issues {
			tk := s.ticket(&p.Issues[i], 1, now)
			if tk.ID == "" {
				t.Fatal("a decoded issue lost its id")
			}
		}
		_, _ = DecodeSLAs(b)
	})
}
