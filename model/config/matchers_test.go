package config

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// Matchers as operators copy them from amtool and an Alertmanager route's
// matchers: go into a config twice, as a service's match: line and as a
// view's filter:. Both load; the service claims exactly the alerts the
// view keeps, and those are the alerts Alertmanager would match.
func TestMatchersConfigAndFilterAgree(t *testing.T) {
	alerts := []map[string]string{
		{"alertname": "CheckoutDown", "service": "checkout", "severity": "critical", "env": "prod"},
		{"alertname": "DBSlow", "service": "db", "severity": "critical", "env": "prod", "team 🙂": "data"},
		{"alertname": "DBSlow", "service": "db", "severity": "warning", "env": "dev"},
		{"alertname": "Quote", "service": "web", "severity": "info", "summary": `disk "full", again`},
		{"alertname": "NoEnv", "service": "cart", "severity": "warning"},
	}
	cases := []struct {
		line string
		keep []int // indexes into alerts
	}{
		{`service=checkout`, []int{0}},                                // unquoted, as in a route's matchers:
		{`service="checkout"`, []int{0}},                              // quoted value
		{`{service="checkout"}`, []int{0}},                            // braces
		{`{"service"="checkout"}`, []int{0}},                          // quoted (UTF-8) name
		{`severity=critical,service=db`, []int{1}},                    // a list: all must match
		{`{severity="critical", service="db",}`, []int{1}},            // trailing comma
		{`severity=critical,`, []int{0, 1}},                           // trailing comma, no braces
		{`{"team 🙂"="data"}`, []int{1}},                               // a UTF-8 name with a space
		{`team🙂=data`, nil},                                           // another name: no such label
		{`service=~"d.*"`, []int{1, 2}},                               // regexp, anchored
		{`service=~d`, nil},                                           // anchored: d is not db
		{`alertname=~DB.+,env!~"dev|test"`, []int{1}},                 // regexp and negated regexp
		{`env=`, []int{3, 4}},                                         // empty value: the label is absent
		{`env!=""`, []int{0, 1, 2}},                                   // present
		{`summary="disk \"full\", again"`, []int{3}},                  // escapes, a comma in quotes
		{`alertname=~"Check\\w+"`, []int{0}},                          // an escaped backslash in a quoted regexp
		{`alertname=~Check\w+`, []int{0}},                             // the classic reading Alertmanager falls back to
		{`{alertname=~"DB.*", severity!="warning"}`, []int{1}},        // braces with spaces
		{`{alertname="DBSlow",env="dev"}`, []int{2}},                  // braces without spaces
		{`severity=~"critical|warning",service!~"db|cart"`, []int{0}}, // regexps listed
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			line, err := json.Marshal(c.line)
			require.NoError(t, err)
			yml := fmt.Sprintf(`sources:
  - {name: am, type: alertmanager, url: http://127.0.0.1:9093}
services:
  - name: target
    match: [%s]
views:
  - {name: same, filter: %s}
`, line, line)
			cfg, err := Parse([]byte(yml), "")
			require.NoError(t, err)
			cat := cfg.Catalog()
			filter, err := model.ParseFilter(cfg.Views[0].Filter)
			require.NoError(t, err)
			var claimed, kept []int
			for i, labels := range alerts {
				if name, mapped := cat.ServiceFor(model.LabelsFromMap(labels)); mapped && name == "target" {
					claimed = append(claimed, i)
				}
				sig := &model.Signal{Service: labels["service"],
					Severity: model.ParseSeverity(labels["severity"]),
					AlertRow: &model.AlertRow{Alert: model.Alert{Labels: model.LabelsFromMap(labels)}}}
				if filter.MatchSignal(sig, model.FilterEnv{}) {
					kept = append(kept, i)
				}
			}
			assert.Equal(t, c.keep, claimed, "the service's match claims")
			assert.Equal(t, c.keep, kept, "the view's filter keeps")
		})
	}
}

// A matcher line that does not parse is refused at load with its key path
// and what is wrong, in the service's match: and in a CloudWatch severity
// rule alike.
func TestBadMatcherNamesKeyAndProblem(t *testing.T) {
	for line, want := range map[string]string{
		`{,}`:                `services[0].match[1]: unexpected ,: expected label name at position 2`,
		`service="checkout`:  `services[0].match[1]: "checkout: missing end ": expected label value at position 9`,
		`job=~"api("`:        `services[0].match[1]: bad regexp: missing closing ) at position 6`,
		`service='checkout'`: `services[0].match[1]: use double quotes: Alertmanager keeps ' quotes as part of service's value`,
		`{}`:                 `services[0].match[1]: no matcher in "{}"`,
		`{a="b" c="d"}`:      `services[0].match[1]: unexpected c: expected a comma or close brace at position 8`,
		`service!checkout`:   `services[0].match[1]: !: expected one of '=~': expected an operator such as '=', '!=', '=~' or '!~' at position 8`,
	} {
		line, err := json.Marshal(line)
		require.NoError(t, err)
		yml := fmt.Sprintf(`sources:
  - name: aws
    type: cloudwatch
    region: eu-west-1
    severity:
      - {match: %s, severity: critical}
services:
  - name: target
    match: [service=web, %s]
`, line, line)
		_, err = Parse([]byte(yml), "")
		if assert.Error(t, err, string(line)) {
			assert.Contains(t, err.Error(), want)
			cw := "sources[0].severity[0].match: " + want[len("services[0].match[1]: "):]
			assert.Contains(t, err.Error(), cw)
		}
	}
}
