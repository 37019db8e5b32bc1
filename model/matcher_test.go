package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMatchers(t *testing.T) {
	labels := map[string]string{"service": "checkout", "env": "prod", "job": "api-gw"}
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
		{`service='checkout'`, true},
		{"service=`checkout`", true},
		{`service="check\"out"`, false},
	}
	for _, c := range cases {
		ms, err := ParseMatchers(c.expr)
		require.NoError(t, err, c.expr)
		assert.Equal(t, c.match, MatchAll(ms, labels), c.expr)
	}
}

func TestParseMatchersErrors(t *testing.T) {
	for expr, want := range map[string]string{
		``:                     "no matcher",
		`service`:              "expected one of",
		`service=checkout`:     "expected a quoted value",
		`service="checkout`:    "unterminated value",
		`{service="a"`:         "missing closing }",
		`job=~"("`:             "bad regexp",
		`{a="b" c="d"}`:        "expected , or }",
		`="x"`:                 "expected a label name",
		`service="a" trailing`: "unexpected",
		`{service="a"} extra`:  "after matchers",
	} {
		_, err := ParseMatchers(expr)
		require.Error(t, err, expr)
		assert.Contains(t, err.Error(), want, expr)
	}
}

func TestMatcherStringRoundTrip(t *testing.T) {
	ms, err := ParseMatchers(`{a="x\"y", b!~"p.*"}`)
	require.NoError(t, err)
	for _, m := range ms {
		back, err := ParseMatchers(m.String())
		require.NoError(t, err)
		assert.Equal(t, m.Name, back[0].Name)
		assert.Equal(t, m.Op, back[0].Op)
		assert.Equal(t, m.Value, back[0].Value)
	}
}

func FuzzParseMatchers(f *testing.F) {
	for _, s := range []string{`a="b"`, `{a=~"x.*", b!="c"}`, "a=`b`", `a='b\'c'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMatchers(s)
		if err != nil {
			return
		}
		for _, m := range ms {
			m.Matches(map[string]string{"a": s})
			if _, err := ParseMatchers(m.String()); err != nil {
				t.Fatalf("matcher %q from %q does not parse back: %v", m.String(), s, err)
			}
		}
	})
}
