package model

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reading renders parsed matchers as the amCases do.
func reading(ms []*Matcher, err error) string {
	if err != nil {
		return "✗"
	}
	if len(ms) == 0 {
		return "{}"
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("%s%s%q", m.Name, m.Op, m.Value)
	}
	return strings.Join(parts, " ")
}

func termsReading(f *Filter) string {
	var parts []string
	for _, t := range f.Terms {
		parts = append(parts, fmt.Sprintf("%s%s%q", t.Field, t.Op, t.Value))
	}
	if len(parts) == 0 {
		return "{}"
	}
	return strings.Join(parts, " ")
}

// Every input of Alertmanager's own parser tests reads as an Alertmanager
// 0.35 config line reads it, but for a line without any matcher, which
// sitroom refuses (it would claim every alert). The agreement with each
// of Alertmanager's tables, the figure the old hand-written parser was
// measured by, is logged.
func TestMatchersAgreeWithAlertmanager(t *testing.T) {
	require.Len(t, amCases, 139)
	type count struct{ agree, total int }
	perTable := map[amTable]*count{}
	refused := 0
	for _, c := range amCases {
		got := reading(ParseMatchers(c.in))
		n := perTable[c.table]
		if n == nil {
			n = &count{}
			perTable[c.table] = n
		}
		n.total++
		if got == c.want {
			n.agree++
		}
		want := c.am
		if want == "{}" {
			want = "✗"
			refused++
		}
		assert.Equal(t, want, got, "%s: %q", c.table, c.in)
	}
	assert.Equal(t, 7, refused, "inputs without a matcher")
	for _, tb := range []amTable{amUTF8, amUTF8One, amClassic, amFallback, amFallbackOne} {
		t.Logf("%-34s agrees on %d of %d", tb, perTable[tb].agree, perTable[tb].total)
	}
	utf8 := perTable[amUTF8].agree + perTable[amUTF8One].agree
	t.Logf("matcher/parse tables: %d of %d; pkg/labels: %d of %d", utf8, perTable[amUTF8].total+perTable[amUTF8One].total,
		perTable[amClassic].agree, perTable[amClassic].total)
}

// The same inputs typed into the filter: what Alertmanager accepts gives
// the same label terms, unless the filter reads the word otherwise (a
// space outside quotes and braces ends a term); what it refuses never
// becomes a term.
func TestFilterReadsAlertmanagerMatchers(t *testing.T) {
	terms := 0
	for _, c := range amCases {
		f, err := ParseFilter(c.in)
		switch {
		case c.am == "✗":
			if err == nil {
				assert.Empty(t, f.Terms, "%s: %q refused by Alertmanager became terms", c.table, c.in)
			}
		case hasBareSpace(c.in):
			continue
		case braceOddity(c.in):
			continue
		default:
			if !assert.NoError(t, err, "%s: %q", c.table, c.in) {
				continue
			}
			assert.Equal(t, c.am, termsReading(f), "%s: %q", c.table, c.in)
			terms++
		}
	}
	assert.GreaterOrEqual(t, terms, 90, "inputs the filter reads as terms")
	t.Logf("%d of %d inputs read as the same terms in the filter", terms, len(amCases))
}

// braceOddity: a brace list not closed by its first closing brace, or
// a closing brace without an opening one, which only the classic parser
// reads (`{foo=bar`, `{foo=bar}}`); in the filter a brace list ends at its
// first closing brace and must be closed.
func braceOddity(s string) bool {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '}':
			return !strings.HasPrefix(s, "{") || i != len(s)-1
		}
	}
	return strings.HasPrefix(s, "{")
}

// hasBareSpace: a space outside double quotes and braces.
func hasBareSpace(s string) bool {
	quoted, depth := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '{':
			depth++
		case c == '}':
			depth--
		case c == ' ' && depth <= 0:
			return true
		}
	}
	return false
}

func TestParseMatchers(t *testing.T) {
	labels := map[string]string{"service": "checkout", "env": "prod", "job": "api-gw", "team 🙂": "web"}
	cases := []struct {
		expr  string
		match bool
	}{
		{`service="checkout"`, true},
		{`service = "payments"`, false},
		{`service!="payments"`, true},
		{`job=~"api.*"`, true},
		{`job=~"api"`, false}, // anchored, as in PromQL
		{`job!~"db.*"`, true},
		{`{service="checkout", env=~"prod|staging"}`, true},
		{`{service="checkout",env="dev"}`, false},
		{`missing=""`, true}, // an absent label has the empty value
		{`service="check\"out"`, false},
		{`service=checkout`, true}, // unquoted, as in a route's matchers:
		{`{service=checkout,}`, true},
		{`service=checkout,env=prod`, true},
		{`service=checkout,env=dev`, false},
		{`{"service"="checkout"}`, true},
		{`"team 🙂"=web`, true},
		{`job=~api-.*`, true},
		{`job=~"api-\\w+"`, true},
		{`job=~api-\w+`, true}, // the classic reading, as Alertmanager falls back to
		{`env=`, false},        // empty value
	}
	for _, c := range cases {
		ms, err := ParseMatchers(c.expr)
		require.NoError(t, err, c.expr)
		assert.Equal(t, c.match, MatchAll(ms, LabelsFromMap(labels)), c.expr)
	}
}

func TestParseMatchersErrors(t *testing.T) {
	for expr, want := range map[string]string{
		``:                     `no matcher in ""`,
		`{}`:                   `no matcher in "{}"`,
		`service`:              `expected an operator such as '=', '!=', '=~' or '!~' at position 8`,
		`service="checkout`:    `"checkout: missing end ": expected label value at position 9`,
		`job=~"("`:             `bad regexp: missing closing ) at position 6`,
		`{a="b" c="d"}`:        `unexpected c: expected a comma or close brace at position 8`,
		`="x"`:                 `unexpected =: expected label name at position 1`,
		`service="a" trailing`: `unexpected trailing: expected a comma or close brace at position 13`,
		`{service="a"} extra`:  `extra: expected end of input at position 15`,
		`service='checkout'`:   `use double quotes: Alertmanager keeps ' quotes as part of service's value in "service='checkout'"`,
		"service=`checkout`":   "use double quotes: Alertmanager keeps ` quotes",
		`{""="x"}`:             "empty label name",
		`foo!bar`:              `expected an operator such as '=', '!=', '=~' or '!~' at position 4`,
	} {
		_, err := ParseMatchers(expr)
		if assert.Error(t, err, expr) {
			assert.Contains(t, err.Error(), want, expr)
		}
	}
}

// String renders a matcher so that it parses back to the same matcher.
func TestMatcherStringRoundTrip(t *testing.T) {
	ms, err := ParseMatchers(`{a="x\"y", b!~"p.*", "c d"="e\\f", g="line\nbreak", h=~"\\d+"}`)
	require.NoError(t, err)
	require.Len(t, ms, 5)
	for _, m := range ms {
		back, err := ParseMatchers(m.String())
		require.NoError(t, err, m.String())
		require.Len(t, back, 1)
		assert.Equal(t, m.Name, back[0].Name)
		assert.Equal(t, m.Op, back[0].Op)
		assert.Equal(t, m.Value, back[0].Value, m.String())
	}
	assert.Equal(t, `"c d"="e\\f"`, ms[2].String())
}

func FuzzParseMatchers(f *testing.F) {
	for _, s := range []string{`a="b"`, `{a=~"x.*", b!="c"}`, "a=b,c!~d", `{"a b"="c"}`, `a=\"b`, `foo=bar}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMatchers(s)
		if err != nil {
			return
		}
		for _, m := range ms {
			m.Matches(LabelsFromMap(map[string]string{"a": s}))
			back, err := ParseMatchers(m.String())
			if err != nil {
				t.Fatalf("matcher %q from %q does not parse back: %v", m.String(), s, err)
			}
			if len(back) != 1 || back[0].Name != m.Name || back[0].Op != m.Op || back[0].Value != m.Value {
				t.Fatalf("matcher %q from %q parses back as %q", m.String(), s, reading(back, nil))
			}
		}
	})
}
