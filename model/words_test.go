package model

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 outages", 1: "1 outage", 2: "2 outages", 10: "10 outages"} {
		if got := Plural(n, "outage", "outages"); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
}

// countWords are the words that may follow a printed count without going
// through Plural: words that read the same after 1 and after 2 ("1
// firing", "2 firing"), units, and the function words of phrases where
// the count is not the noun's ("level %d must be", "%d of %d").
var countWords = map[string]string{
	// states and adjectives: "1 firing", "3 firing"
	"firing": "state", "pending": "state", "silenced": "state", "inhibited": "state", "critical": "state", "stale": "state",
	"open": "state", "unassigned": "state", "refused": "state", "FAILED": "state", "failed": "state",
	"breaching": "state", "more": "quantity word: \"+1 more\"",
	"active": "state of a silence", "expired": "state of a silence", "severe": "state of a finding",
	// "3 SLA breached": the count is of breached tickets, SLA qualifies it
	"SLA": "qualifier",
	// tiers and units
	"T1": "tier name", "T2": "tier name", "MiB": "unit symbol", "KiB": "unit symbol",
	// the count is an ordinal or a position, not a quantity of a noun
	"of": "\"%d of %d\"", "to": "\"schema %d to %d\"", "in": "\"position %d in\"",
	"must": "\"level %d must be\"", "needs": "\"level %d needs\"",
}

// A wording problem: where and what.
type wording struct {
	pos  token.Position
	text string
}

// wordAfter is the word that starts s after one space ("alerts" in " alerts
// in %s"), or "" when s does not start with a space and a letter (a
// unit glued to the number, "45s", or punctuation) or the word is a key
// of key=value text (" user=postgres" in a connection string).
func wordAfter(s string) string {
	if len(s) < 2 || s[0] != ' ' {
		return ""
	}
	s = s[1:]
	end := 0
	for end < len(s) && (s[end] >= 'a' && s[end] <= 'z' || s[end] >= 'A' && s[end] <= 'Z' || end > 0 && s[end] >= '0' && s[end] <= '9') {
		end++
	}
	if end < len(s) && s[end] == '=' {
		return ""
	}
	return s[:end]
}

// formatVerb is one verb of a format string: its letter, its argument
// index (counted from the format's first argument) and the text after it.
type formatVerb struct {
	verb  byte
	arg   int
	glued bool // part of a name ("svc-%02d"), not a count
	after string
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// verbs parses a printf format.
func verbs(format string) []formatVerb {
	var out []formatVerb
	arg := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		glued := i > 0 && (isWordByte(format[i-1]) || format[i-1] == '-' || format[i-1] == '_')
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		for i < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[i]) >= 0 {
			if format[i] == '*' {
				arg++
			}
			i++
		}
		if i < len(format) {
			out = append(out, formatVerb{verb: format[i], arg: arg, glued: glued, after: format[i+1:]})
			arg++
		}
	}
	return out
}

// constString is the value of a string literal or a concatenation of
// string literals.
func constString(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return constString(e.X)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := constString(e.X)
		b, ok2 := constString(e.Y)
		return a + b, ok1 && ok2
	}
	return "", false
}

func callName(c *ast.CallExpr) string {
	switch f := c.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// isCount reports whether e evidently is a count: len(…), or an integer
// turned into text (strconv.Itoa, itoa, strconv.FormatInt).
func isCount(e ast.Expr) bool {
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	switch callName(c) {
	case "len", "Itoa", "itoa", "FormatInt":
		return true
	}
	return false
}

// flatten lists the operands of a chain of string concatenations.
func flatten(e ast.Expr) []ast.Expr {
	if b, ok := e.(*ast.BinaryExpr); ok && b.Op == token.ADD {
		return append(flatten(b.X), flatten(b.Y)...)
	}
	return []ast.Expr{e}
}

var (
	optionalPlural = regexp.MustCompile(`[A-Za-z]\(s\)`)
	hardOne        = regexp.MustCompile(`(^|[^0-9.,])1 (alerts|outages|tickets|sources|services|silences|teams|levels|symptoms|rows|bytes)\b`)
)

// pluralOf reports whether many is one's plural: "outage"/"outages",
// "SOURCE"/"SOURCES", "entry"/"entries", "match"/"matches".
func pluralOf(one, many string) bool {
	switch {
	case one == "" || many == one:
		return false
	case many == one+"s" || many == one+"S" || many == one+"es":
		return true
	case strings.HasSuffix(one, "y") && many == one[:len(one)-1]+"ies":
		return true
	}
	return false
}

// countWording lists, in the Go source src (named name), every count
// printed with a noun that does not agree with it: a count verb of a
// printf-style format followed by a word that is not in countWords, an
// integer turned into text and joined to such a word, "alert(s)", a
// literal "1 alerts", and a Plural call whose two nouns are not singular
// and plural. A line whose comment (on it or just above) says "always
// plural:" and why is left alone.
func countWording(fset *token.FileSet, f *ast.File) []wording {
	var out []wording
	seen := map[string]bool{}
	report := func(n ast.Node, format string, args ...any) {
		w := wording{fset.Position(n.Pos()), fmt.Sprintf(format, args...)}
		if k := w.pos.String() + w.text; !seen[k] {
			seen[k] = true
			out = append(out, w)
		}
	}
	checkWord := func(n ast.Node, word, context string) {
		if word == "" {
			return
		}
		if _, ok := countWords[word]; ok {
			return
		}
		report(n, "count before %q in %q: use model.Plural (or list %q in countWords with why it never changes)", word, context, word)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if s, ok := constString(n); ok {
				if m := optionalPlural.FindString(s); m != "" && !strings.Contains(s, "http(s)") {
					report(n, "%q: a count and its noun agree (model.Plural), never %q", s, m)
				}
				if m := hardOne.FindString(s); m != "" {
					report(n, "%q: one of a thing is singular", s)
				}
			}
		case *ast.BinaryExpr:
			if n.Op != token.ADD {
				return true
			}
			ops := flatten(n)
			for i := 0; i+1 < len(ops); i++ {
				if !isCount(ops[i]) {
					continue
				}
				if s, ok := constString(ops[i+1]); ok {
					checkWord(ops[i+1], wordAfter(s), s)
				}
			}
		case *ast.CallExpr:
			name := callName(n)
			if name == "Plural" && len(n.Args) == 3 {
				one, ok1 := constString(n.Args[1])
				many, ok2 := constString(n.Args[2])
				if !ok1 || !ok2 {
					report(n, "Plural's nouns are literals, so this check can read them")
				} else if !pluralOf(one, many) {
					report(n, "Plural(n, %q, %q): the second noun is not the plural of the first", one, many)
				}
			}
			if !strings.HasSuffix(name, "f") {
				return true
			}
			for i, a := range n.Args {
				format, ok := constString(a)
				if !ok || !strings.Contains(format, "%") {
					continue
				}
				for _, v := range verbs(format) {
					if v.glued {
						continue
					}
					switch v.verb {
					case 'd':
					case 'v', 's':
						if j := i + 1 + v.arg; j >= len(n.Args) || !isCount(n.Args[j]) {
							continue
						}
					default:
						continue
					}
					checkWord(a, wordAfter(v.after), format)
				}
				break // the first literal with a verb is the format
			}
		}
		return true
	})
	// A line saying why its count is never 1 ("// always plural: n > held
	// here") keeps its wording.
	plural := map[int]bool{}
	for _, g := range f.Comments {
		for _, c := range g.List {
			if strings.Contains(c.Text, "always plural:") {
				plural[fset.Position(c.Pos()).Line] = true
			}
		}
	}
	kept := out[:0]
	for _, w := range out {
		if !plural[w.pos.Line] && !plural[w.pos.Line-1] {
			kept = append(kept, w)
		}
	}
	return kept
}

func parseSource(t *testing.T, src string) (*token.FileSet, *ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, parser.SkipObjectResolution|parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	return fset, f
}

// TestCountWordingFindsEveryForm checks the checker on a file with each
// wrong form, and on the right ones, so a module with no offenders is a
// finding and not a checker that sees nothing.
func TestCountWordingFindsEveryForm(t *testing.T) {
	bad := map[string]string{
		`fmt.Sprintf("outage %s (%d alerts)", s, n)`:                  "alerts",
		`fmt.Fprintf(w, "ok  %-16s %d alerts in %s\n", a, n, d)`:      "alerts",
		`fmt.Sprintf("Acknowledges %d alert(s) of %s", n, s)`:         "alert(s)",
		`log.Errorf("got %v tickets", len(ts))`:                       "tickets",
		`t.Fatalf("mapped %d tickets, want %d", n, w)`:                "tickets",
		`strconv.Itoa(n) + " outages"`:                                "outages",
		`"(" + strconv.Itoa(n) + " rows)"`:                            "rows",
		`model.Plural(n, "alerts", "alerts")`:                         "not the plural",
		`Plural(n, "alert", "alert(s)")`:                              "alert(s)",
		`"1 outages"`:                                                 "singular",
		`fmt.Sprintf("%s: %d rows could not be written", name, n)`:    "rows",
		`w.errorf(line, path, "too large (past %d nodes)", maxNodes)`: "nodes",
	}
	for expr, want := range bad {
		fset, f := parseSource(t, "package x\nvar _ = "+expr+"\n")
		got := countWording(fset, f)
		if len(got) == 0 || !strings.Contains(got[0].text, want) {
			t.Errorf("%s: got %v, want a finding about %q", expr, got, want)
		}
	}
	good := []string{
		"fmt.Sprintf(\"the other %d are\", n) // always plural: n > 1 in this branch",
		`fmt.Sprintf("Instance %s of svc-%02d is failing", a, i)`,
		`fmt.Sprintf("%s, %d firing, %d pending", s, a, b)`,
		`fmt.Sprintf("%d of %s failed", n, model.Plural(m, "source", "sources"))`,
		`fmt.Sprintf("%dh%02dm", h, m)`,
		`fmt.Sprintf("%v is too short", d)`,
		`fmt.Sprintf("%s at %d%%", s, n)`,
		`model.Plural(n, "outage", "outages") + " · " + model.Plural(k, "SOURCE", "SOURCES")`,
		`strconv.Itoa(n) + " silenced)"`,
		`itoa(m) + "m" + pad2(r) + "s"`,
		`"an absolute http(s) URL"`,
		`fmt.Sprintf(" · %d FAILED", n)`,
	}
	for _, expr := range good {
		fset, f := parseSource(t, "package x\nvar _ = "+expr+"\n")
		if got := countWording(fset, f); len(got) != 0 {
			t.Errorf("%s: unexpected finding %v", expr, got)
		}
	}
}

// TestCountsAgreeWithTheirNouns reads every non-test Go file of the module
// (the screen, the handoff report, check, poll, logs and errors) and fails
// on every count whose noun does not agree with it: "1 outages", "(1
// alerts)", "alert(s)". Counts go through Plural; a word that reads the
// same after any number goes in countWords with the reason.
func TestCountsAgreeWithTheirNouns(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above model/: %v", err)
	}
	fset := token.NewFileSet()
	var found []wording
	files, formats := 0, 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || d.Name() == "vendor" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution|parser.ParseComments)
		if err != nil {
			return err
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok && strings.HasSuffix(callName(c), "f") {
				for _, a := range c.Args {
					if s, ok := constString(a); ok && strings.Contains(s, "%d") {
						formats++
						break
					}
				}
			}
			return true
		})
		found = append(found, countWording(fset, f)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The module prints hundreds of counts; a walk that saw few of them
	// read the wrong tree.
	if files < 100 || formats < 40 {
		t.Fatalf("read %d files with %d count formats: not the module", files, formats)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].pos.String() < found[j].pos.String() })
	for _, w := range found {
		rel, _ := filepath.Rel(root, w.pos.Filename)
		t.Errorf("%s:%d: %s", rel, w.pos.Line, w.text)
	}
}
