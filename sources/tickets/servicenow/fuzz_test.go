package servicenow

import (
	"os"
	"testing"

	"sitroom/sources/tickets"
)

func FuzzDecodeRecords(f *testing.F) {
	for _, p := range []string{"../../../testdata/servicenow/incident_list.json", "../../../testdata/servicenow/task_sla.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"result":[{"sys_id":1,"a":true,"b":null,"c":{"display_value":"x"}}]}`))
	s, _ := New(Options{Common: tickets.Common{Name: "f", URL: "http://sn", ServiceField: "cmdb_ci"},
		Tier1: []string{"a"}, Tier2: []string{"b"}})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRecords(b)
		if err != nil {
			return
		}
		for _, rec := range r.Result {
			tk := s.ticket(rec)
			if tk.ID != string(rec["sys_id"]) {
				t.Fatal("sys_id not kept")
			}
		}
	})
}
