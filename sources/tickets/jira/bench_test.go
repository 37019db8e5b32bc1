package jira

import (
	"fmt"
	"io"
	"testing"
	"time"

	"sitroom/sources/tickets"
	"sitroom/sources/tickets/desktest"
)

// BenchmarkDecode100k decodes and maps 100k Jira issues (search/jql pages
// of 100 with the SLA custom field).
func BenchmarkDecode100k(b *testing.B) {
	pages, size := desktest.Pages(100_000, `{"issues":[`, `],"nextPageToken":"CAEaAggB","isLast":false}`, func(w io.Writer, i int) {
		fmt.Fprintf(w, `{"expand":"","id":"%d","key":"NOC-%d","self":"https://acme.atlassian.net/rest/api/3/issue/%d","fields":{"summary":"edge-%d BGP flap",`+
			`"status":{"name":"Waiting for support","statusCategory":{"key":"new"}},"priority":{"name":"High","id":"2"},"assignee":null,`+
			`"reporter":{"accountId":"5b10a2844c20165700ede21g","displayName":"Mia Krystof"},"created":"2025-11-03T08:00:05.000+0000","updated":"2025-11-03T09:14:22.123+0000",`+
			`"project":{"key":"NOC"},"components":[{"name":"svc-%d"}],"customfield_10030":{"id":"3","name":"Time to resolution","completedCycles":[],"ongoingCycle":{`+
			`"startTime":{"iso8601":"2025-11-03T08:00:05+0000","jira":"2025-11-03T08:00:05.000+0000","friendly":"Today 08:00","epochMillis":1762156805000},`+
			`"breachTime":{"iso8601":"2025-11-03T12:00:05+0000","jira":"2025-11-03T12:00:05.000+0000","friendly":"Today 12:00","epochMillis":1762171205000},`+
			`"breached":false,"paused":false,"withinCalendarHours":true,"goalDuration":{"millis":14400000,"friendly":"4h"},"elapsedTime":{"millis":5400000,"friendly":"1h 30m"},"remainingTime":{"millis":9000000,"friendly":"2h 30m"}}}}}`,
			10000+i, i, 10000+i, i%50, i%40)
	})
	s, _ := New(Options{Common: tickets.Common{Name: "jsm", URL: "https://acme.atlassian.net", ServiceField: "components"},
		Tier1JQL: "a", Tier2JQL: "b", SLAField: "customfield_10030"})
	now := time.Unix(1.7e9, 0)
	desktest.Bench(b, pages, size, 100_000, func(p []byte) (int, error) {
		pg, err := DecodeSearch(p)
		if err != nil {
			return 0, err
		}
		for i := range pg.Issues {
			_ = s.ticket(&pg.Issues[i], 1, now)
		}
		return len(pg.Issues), nil
	})
}
