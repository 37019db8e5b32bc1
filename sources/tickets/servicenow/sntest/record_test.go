package sntest

import (
	"net/http"
	"net/url"
	"testing"
)

// listIncidents asks the server for incidents matching query.
func listIncidents(t *testing.T, s *Server, query string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+"/api/now/table/incident?sysparm_query="+url.QueryEscape(query), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(s.User, s.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list: %s", resp.Status)
	}
}

// A server that runs as long as a process (the demo's) keeps no record of
// the queries it answered once RecordQueries(false), and still answers.
func TestRecordQueriesOff(t *testing.T) {
	s := New(t)
	s.Add("incident", Record{"sys_id": "1", "number": "INC1", "active": "true"})
	listIncidents(t, s, "active=true")
	if got := s.Queries("incident"); len(got) != 1 || got[0] != "active=true" {
		t.Fatalf("recorded %q, want the one query", got)
	}

	listIncidents(t, s, "active=true^ORDERBYnumber")
	s.RecordQueries(false)
	for range 3 {
		listIncidents(t, s, "active=true")
	}
	if got := s.Queries("incident"); len(got) != 0 {
		t.Errorf("recording off, still recorded %q", got)
	}
	if n := s.Requests("GET /api/now/table/incident"); n != 5 {
		t.Errorf("%d list requests answered, want 5", n)
	}

	s.RecordQueries(true)
	listIncidents(t, s, "number=INC1")
	if got := s.Queries("incident"); len(got) != 1 || got[0] != "number=INC1" {
		t.Errorf("recording back on: recorded %q, want the one query", got)
	}
}
