package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDependencyProblemsNameThePath(t *testing.T) {
	const src = "sources: [{name: am, type: alertmanager, url: 'http://am:9093'}]\nservices:\n"
	cases := []struct {
		name     string
		services string
		want     []string
	}{
		{"unknown service", "  - {name: db}\n  - {name: pay, depends_on: [db]}\n  - {name: web, depends_on: [pay]}\n  - {name: checkout, depends_on: [db, paymnts]}\n",
			[]string{`services[3].depends_on[1]: unknown service "paymnts"`}},
		{"self-dependency", "  - {name: db, depends_on: [db]}\n",
			[]string{`services[0].depends_on[0]: service "db" cannot depend on itself`}},
		{"cycle of three", "  - {name: x}\n  - {name: a, depends_on: [b]}\n  - {name: b, depends_on: [c]}\n  - {name: c, depends_on: [x, a]}\n",
			[]string{`services[3].depends_on[1]: cycle: a → b → c → a`}},
		{"cycle of two", "  - {name: a, depends_on: [b]}\n  - {name: b, depends_on: [a]}\n",
			[]string{`services[1].depends_on[0]: cycle: a → b → a`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(src+c.services), "")
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			if c.name == "self-dependency" {
				assert.NotContains(t, err.Error(), "cycle", "a self-dependency is reported once")
			}
		})
	}
	for _, ok := range []string{
		"  - {name: db}\n  - {name: l, depends_on: [db]}\n  - {name: r, depends_on: [db]}\n  - {name: t, depends_on: [l, r, db]}\n", // diamond with a shortcut
		"  - {name: db}\n  - {name: search}\n",
	} {
		c, err := Parse([]byte(src+ok), "")
		require.NoError(t, err)
		assert.Empty(t, c.Catalog().Cycles())
	}
	_, err := Parse([]byte(src+"  - {name: a, depends_on: [b]}\n  - {name: b, depends_on: [a]}\n"), "")
	require.Error(t, err)
	assert.Equal(t, 1, strings.Count(err.Error(), "cycle:"), "one cycle, one error: %v", err)
}
