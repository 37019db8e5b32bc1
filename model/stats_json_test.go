package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statsSchema reads testdata/stats/schema.json: the JSON Schema of the
// statistics' JSON form, every object closed (additionalProperties
// false) and every field that is always written required, so a field
// added, renamed or retyped in Stats fails TestStatsJSONSchema until the
// schema (and, TestStatsJSONFieldsDocumented, docs/stats.md) says so.
func statsSchema(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "stats", "schema.json"))
	require.NoError(t, err)
	var s map[string]any
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

// schemaValidator checks a decoded JSON value against the subset of JSON
// Schema the file uses; a keyword it does not know is an error, so the
// schema cannot say more than is checked.
type schemaValidator struct {
	root map[string]any
	errs []string
}

var schemaKeywords = map[string]bool{"$schema": true, "title": true, "$defs": true, "$ref": true, "type": true, "enum": true,
	"pattern": true, "minimum": true, "properties": true, "required": true, "additionalProperties": true,
	"propertyNames": true, "items": true}

func (v *schemaValidator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, path+": "+fmt.Sprintf(format, args...))
}

func (v *schemaValidator) check(path string, schema map[string]any, val any) {
	for k := range schema {
		if !schemaKeywords[k] {
			v.fail(path, "schema keyword %q is not checked by the test's validator", k)
		}
	}
	if ref, ok := schema["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/$defs/")
		def, _ := v.root["$defs"].(map[string]any)[name].(map[string]any)
		if !found || def == nil {
			v.fail(path, "unknown $ref %q", ref)
			return
		}
		v.check(path, def, val)
	}
	if ty, ok := schema["type"]; ok {
		var types []string
		switch ty := ty.(type) {
		case string:
			types = []string{ty}
		case []any:
			for _, x := range ty {
				types = append(types, x.(string))
			}
		}
		got := jsonType(val)
		okType := false
		for _, want := range types {
			okType = okType || want == got || (want == "number" && got == "integer")
		}
		if !okType {
			v.fail(path, "is %s, want %v", got, types)
			return
		}
	}
	if enum, ok := schema["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || fmt.Sprint(e) == fmt.Sprint(val)
		}
		if !found {
			v.fail(path, "%v is not one of %v", val, enum)
		}
	}
	if p, ok := schema["pattern"].(string); ok {
		if s, isStr := val.(string); isStr && !regexp.MustCompile(p).MatchString(s) {
			v.fail(path, "%q does not match %s", s, p)
		}
	}
	if m, ok := schema["minimum"].(float64); ok {
		if n, isNum := val.(float64); isNum && n < m {
			v.fail(path, "%v is below %v", n, m)
		}
	}
	switch val := val.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asStrings(schema["required"]) {
			if _, ok := val[r]; !ok {
				v.fail(path, "required field %q missing", r)
			}
		}
		for _, k := range sortedKeys(val) {
			if pn, ok := schema["propertyNames"].(map[string]any); ok {
				v.check(path+"{"+k+"}", pn, k)
			}
			if ps, ok := props[k].(map[string]any); ok {
				v.check(path+"."+k, ps, val[k])
				continue
			}
			switch ap := schema["additionalProperties"].(type) {
			case bool:
				if !ap {
					v.fail(path, "field %q is not in the schema", k)
				}
			case map[string]any:
				v.check(path+"."+k, ap, val[k])
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, x := range val {
				v.check(fmt.Sprintf("%s[%d]", path, i), items, x)
			}
		}
	}
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func asStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validateStats(t *testing.T, doc any) []string {
	v := &schemaValidator{root: statsSchema(t)}
	v.check("$", v.root, doc)
	return v.errs
}

// statsSchemaFixture is the fixture with every optional field set.
func statsSchemaFixture(t *testing.T) *Stats {
	f, opt := statsFixture(t)
	opt.Service, opt.Team, opt.Shift = "db-main", "dba", "07:00"
	f.Team = TeamHistory{Mode: true, Unreachable: true, Error: "refused"}
	return BuildStats(f, opt)
}

func TestStatsJSONSchema(t *testing.T) {
	for name, s := range map[string]*Stats{"every field": statsSchemaFixture(t), "defaults": BuildStats(statsFixture(t))} {
		b, err := s.JSON()
		require.NoError(t, err)
		var doc any
		require.NoError(t, json.Unmarshal(b, &doc))
		assert.Empty(t, validateStats(t, doc), name)
		again, err := s.JSON()
		require.NoError(t, err)
		assert.Equal(t, b, again, "the same stats give the same bytes")
		assert.True(t, bytes.HasSuffix(b, []byte("}\n")))
	}
	var doc map[string]any
	b, _ := statsSchemaFixture(t).JSON()
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, map[string]any{"critical": 1.0, "warning": 1.0, "info": 1.0, "none": 0.0}, doc["totals"].(map[string]any)["by_severity"])
	assert.Nil(t, doc["buckets"].([]any)[1].(map[string]any)["tta_p50_s"], "nothing to measure: null")
	var back Stats
	require.NoError(t, json.Unmarshal(b, &back), "the JSON reads back")
	assert.Equal(t, SeverityCounts{SevCritical: 1, SevWarning: 1, SevInfo: 1, SevNone: 0}, back.Totals.BySeverity)
	assert.Equal(t, "07:00", back.Shifts[0].Start)
}

// TestStatsJSONSchemaCatchesDrift: the schema test fails on a field added,
// removed or retyped (the validator is not a rubber stamp).
func TestStatsJSONSchemaCatchesDrift(t *testing.T) {
	b, err := statsSchemaFixture(t).JSON()
	require.NoError(t, err)
	mutate := map[string]func(m map[string]any){
		"added":     func(m map[string]any) { m["totals"].(map[string]any)["mtta"] = 1 },
		"renamed":   func(m map[string]any) { m["noisy_sources"] = m["noisiest_sources"]; delete(m, "noisiest_sources") },
		"retyped":   func(m map[string]any) { m["buckets"].([]any)[0].(map[string]any)["outages"] = "2" },
		"bad enum":  func(m map[string]any) { m["bucket"] = "month" },
		"bad level": func(m map[string]any) { m["totals"].(map[string]any)["escalations"] = map[string]any{"L1": 1.0} },
		"flapping":  func(m map[string]any) { m["flapping_alerts"].([]any)[0].(map[string]any)["Cycles"] = 1.0 },
	}
	for name, fn := range mutate {
		var doc map[string]any
		require.NoError(t, json.Unmarshal(b, &doc))
		fn(doc)
		assert.NotEmpty(t, validateStats(t, doc), name)
	}
	v := &schemaValidator{root: map[string]any{}}
	v.check("$", map[string]any{"maxLength": 3.0}, "abcd")
	assert.NotEmpty(t, v.errs, "an unknown keyword is reported, not ignored")
}

// TestStatsJSONFieldsDocumented: every object of the schema has its
// table in docs/stats.md's JSON section (a "### name" subsection), with a
// row for each of its fields and none more. A shift is documented as its
// own fields beside a period's.
func TestStatsJSONFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "stats.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(doc), "\n## JSON\n")
	require.True(t, ok, "docs/stats.md has a ## JSON section")
	section, _, _ = strings.Cut(section, "\n## ")
	documented := map[string][]string{}
	for _, sub := range strings.Split(section, "\n### ")[1:] {
		name, body, _ := strings.Cut(sub, "\n")
		name = strings.Trim(name, "` ")
		for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)`").FindAllStringSubmatch(body, -1) {
			documented[name] = append(documented[name], m[1])
		}
		sort.Strings(documented[name])
	}
	schema := statsSchema(t)
	want := map[string][]string{}
	var collect func(name string, s map[string]any)
	collect = func(name string, s map[string]any) {
		props, ok := s["properties"].(map[string]any)
		if _, seen := want[name]; !ok || seen {
			return
		}
		for k, p := range props {
			want[name] = append(want[name], k)
			collect(k, p.(map[string]any))
		}
		sort.Strings(want[name])
	}
	collect("stats", schema)
	for name, d := range schema["$defs"].(map[string]any) {
		collect(name, d.(map[string]any))
	}
	period := map[string]bool{}
	for _, k := range want["period"] {
		period[k] = true
	}
	var own []string
	for _, k := range want["shift"] {
		if !period[k] {
			own = append(own, k)
		}
	}
	want["shift"] = own
	assert.Equal(t, want, documented, "docs/stats.md's JSON tables against testdata/stats/schema.json")
}

// TestStatsCSVColumnsDocumented: docs/stats.md's CSV table lists the
// columns in the order CSV writes them.
func TestStatsCSVColumnsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "stats.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(doc), "\n## CSV\n")
	require.True(t, ok, "docs/stats.md has a ## CSV section")
	section, _, _ = strings.Cut(section, "\n## ")
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_]+)`").FindAllStringSubmatch(section, -1) {
		documented = append(documented, m[1])
	}
	assert.Equal(t, StatsCSVColumns, documented)
}
