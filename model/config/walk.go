package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	pconfig "github.com/prometheus/common/config"
	pmodel "github.com/prometheus/common/model"
	yaml2 "go.yaml.in/yaml/v2"
	yaml3 "go.yaml.in/yaml/v3"
)

// fieldError is one problem in the configuration, located by key path and,
// when the config came from a file, by line.
type fieldError struct {
	line int
	path string
	msg  string
}

func (e *fieldError) Error() string {
	var b strings.Builder
	if e.line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.line)
	}
	if e.path != "" {
		b.WriteString(e.path)
		b.WriteString(": ")
	}
	b.WriteString(e.msg)
	return b.String()
}

var (
	v2Unmarshaler = reflect.TypeFor[yaml2.Unmarshaler]()
	secretType    = reflect.TypeFor[pconfig.Secret]()
	durationType  = reflect.TypeFor[pmodel.Duration]()
)

// maxWalkNodes bounds the work of one walk, so a document built from
// nested aliases cannot make it exponential.
const maxWalkNodes = 200_000

// maxWalkDepth bounds nesting.
const maxWalkDepth = 64

// walker checks a yaml.v3 node tree against Go types by reflection: every
// mapping key must name a field (following yaml tags and inline structs and
// maps), and every value must decode into its field's type. It records the
// line of every key path and the scalar values that sit in secret fields.
type walker struct {
	errs    []error
	lines   map[string]int
	secrets []string
	budget  int
}

func newWalker() *walker {
	return &walker{lines: make(map[string]int), budget: maxWalkNodes}
}

func (w *walker) errorf(line int, path, format string, args ...any) {
	w.errs = append(w.errs, &fieldError{line: line, path: path, msg: fmt.Sprintf(format, args...)})
}

func implementsUnmarshaler(t reflect.Type) bool {
	return t.Implements(v2Unmarshaler) || reflect.PointerTo(t).Implements(v2Unmarshaler)
}

// walk checks node n against type t at key path path.
func (w *walker) walk(n *yaml3.Node, t reflect.Type, path string, depth int) {
	w.budget--
	if w.budget == 0 {
		// always plural: maxWalkNodes is a large constant
		w.errorf(n.Line, path, "document too large (aliases expand past %d nodes)", maxWalkNodes)
	}
	if w.budget <= 0 {
		return
	}
	if depth > maxWalkDepth {
		w.errorf(n.Line, path, "nested too deeply")
		return
	}
	for n.Kind == yaml3.AliasNode {
		if n.Alias == nil {
			return
		}
		n = n.Alias
	}
	if _, ok := w.lines[path]; !ok && path != "" {
		w.lines[path] = n.Line
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml3.ScalarNode && n.Tag == "!!null" {
		return // leaves the zero value
	}
	if t == secretType && n.Kind == yaml3.ScalarNode && n.Value != "" {
		w.secrets = append(w.secrets, n.Value)
	}
	if implementsUnmarshaler(t) && (t.Kind() != reflect.Struct || n.Kind != yaml3.MappingNode) {
		w.tryDecode(n, t, path)
		return
	}
	before := len(w.errs)
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml3.MappingNode {
			w.errorf(n.Line, path, "want a mapping (key: value), got %s", describe(n, t))
			return
		}
		fields := map[string]reflect.Type{}
		var inlineMap reflect.Type
		collectFields(t, fields, &inlineMap)
		w.walkMapping(n, path, depth, func(key string) (reflect.Type, bool) {
			if ft, ok := fields[key]; ok {
				return ft, true
			}
			if inlineMap != nil {
				return inlineMap.Elem(), true
			}
			return nil, false
		}, func(p, k string) string { return joinKey(p, k) })
	case reflect.Map:
		if n.Kind != yaml3.MappingNode {
			w.errorf(n.Line, path, "want a mapping (key: value), got %s", describe(n, t))
			return
		}
		elem := t.Elem()
		w.walkMapping(n, path, depth, func(string) (reflect.Type, bool) { return elem, true }, mapKey)
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml3.SequenceNode {
			w.errorf(n.Line, path, "want a list, got %s", describe(n, t))
			return
		}
		for i, c := range n.Content {
			w.walk(c, t.Elem(), path+"["+strconv.Itoa(i)+"]", depth+1)
		}
	case reflect.Interface:
		// anything goes
	default:
		if n.Kind != yaml3.ScalarNode {
			w.errorf(n.Line, path, "want %s, got %s", kindWord(t), describe(n, t))
			return
		}
		if t.Kind() == reflect.String && strings.Contains(n.Value, "@") {
			if u, err := url.Parse(n.Value); err == nil && u.User != nil {
				if p, ok := u.User.Password(); ok && p != "" {
					w.secrets = append(w.secrets, p)
				}
			}
		}
		w.tryDecode(n, t, path)
	}
	// A struct with its own unmarshaler may reject a combination of
	// fields (tls_config: ca and ca_file); say so at the struct's path
	// when no field was at fault.
	if len(w.errs) == before && implementsUnmarshaler(t) {
		w.tryDecode(n, t, path)
	}
}

// walkMapping visits the pairs of a mapping node, following merge keys.
func (w *walker) walkMapping(n *yaml3.Node, path string, depth int, field func(string) (reflect.Type, bool), child func(p, k string) string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for k.Kind == yaml3.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml3.ScalarNode {
			w.errorf(k.Line, path, "a key must be a plain string")
			continue
		}
		if k.Tag == "!!merge" {
			w.walkMerge(v, path, depth, field, child)
			continue
		}
		cp := child(path, k.Value)
		if _, ok := w.lines[cp]; !ok {
			w.lines[cp] = k.Line
		}
		ft, ok := field(k.Value)
		if !ok {
			w.errorf(k.Line, cp, "unknown key")
			continue
		}
		w.walk(v, ft, cp, depth+1)
	}
}

func (w *walker) walkMerge(v *yaml3.Node, path string, depth int, field func(string) (reflect.Type, bool), child func(p, k string) string) {
	if depth > maxWalkDepth {
		return
	}
	for v.Kind == yaml3.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch v.Kind {
	case yaml3.MappingNode:
		w.walkMapping(v, path, depth+1, field, child)
	case yaml3.SequenceNode:
		for _, c := range v.Content {
			w.walkMerge(c, path, depth+1, field, child)
		}
	default:
		w.errorf(v.Line, path, "<< must merge a mapping")
	}
}

// tryDecode decodes the subtree n alone into a fresh t with the same
// decoder the whole file goes through, to attach any error to path.
func (w *walker) tryDecode(n *yaml3.Node, t reflect.Type, path string) {
	if hasAlias(n, 0) {
		return // decoded (and checked) with the whole document
	}
	b, err := yaml3.Marshal(n)
	if err != nil {
		return
	}
	v := reflect.New(t)
	if err := yaml2.UnmarshalStrict(b, v.Interface()); err != nil {
		w.errs = append(w.errs, &fieldError{line: n.Line, path: path, msg: valueMessage(t, n, err)})
	}
}

func hasAlias(n *yaml3.Node, depth int) bool {
	if n.Kind == yaml3.AliasNode || depth > maxWalkDepth {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c, depth+1) {
			return true
		}
	}
	return false
}

// collectFields lists the yaml keys of struct t as yaml.v2 sees them:
// tag names, lower-cased field names, inline structs flattened, and an
// inline map catching every other key.
func collectFields(t reflect.Type, out map[string]reflect.Type, inlineMap *reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if slicesContains(strings.Split(opts, ","), "inline") {
			switch f.Type.Kind() {
			case reflect.Struct:
				collectFields(f.Type, out, inlineMap)
			case reflect.Map:
				*inlineMap = f.Type
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapKey names a map entry: operator_roles.alice, operator_roles["@noc"].
func mapKey(path, key string) string {
	if plainKey.MatchString(key) {
		return joinKey(path, key)
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func describe(n *yaml3.Node, t reflect.Type) string {
	switch n.Kind {
	case yaml3.MappingNode:
		return "a mapping"
	case yaml3.SequenceNode:
		return "a list"
	case yaml3.ScalarNode:
		if t == secretType {
			return "a value"
		}
		return fmt.Sprintf("%q", clip(n.Value))
	}
	return "something else"
}

func kindWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return "a " + t.String()
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

var v2LinePrefix = regexp.MustCompile(`^line \d+: `)

// valueMessage says in words why a value did not decode into t.
func valueMessage(t reflect.Type, n *yaml3.Node, err error) string {
	switch {
	case t == durationType && n.Kind == yaml3.ScalarNode:
		return fmt.Sprintf("bad duration %q (want e.g. 30s, 5m, 1h)", clip(n.Value))
	case t == secretType:
		return "want a string"
	}
	var te *yaml2.TypeError
	if errors.As(err, &te) {
		if n.Kind == yaml3.ScalarNode {
			return fmt.Sprintf("want %s, got %q", kindWord(t), clip(n.Value))
		}
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = v2LinePrefix.ReplaceAllString(m, "")
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
