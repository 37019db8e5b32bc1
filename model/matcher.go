package model

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/matcher/parse"
	"github.com/prometheus/alertmanager/pkg/labels"
)

// MatchOp is a label matcher operator in Prometheus syntax.
type MatchOp string

// The matcher operators, as Alertmanager spells them.
const (
	MatchEqual     MatchOp = "="
	MatchNotEqual  MatchOp = "!="
	MatchRegexp    MatchOp = "=~"
	MatchNotRegexp MatchOp = "!~"
)

// Matcher is one Alertmanager label matcher: name op value. It wraps the
// *labels.Matcher Alertmanager's parsers return; Name, Op and Value are
// read-only copies of its fields.
type Matcher struct {
	Name  string
	Op    MatchOp
	Value string
	lm    *labels.Matcher
}

func fromLabels(lm *labels.Matcher) *Matcher {
	return &Matcher{Name: lm.Name, Op: MatchOp(lm.Type.String()), Value: lm.Value, lm: lm}
}

// Matches reports whether the label set satisfies the matcher. A missing
// label has the empty value, as in Prometheus and Alertmanager.
func (m *Matcher) Matches(labels Labels) bool {
	return m.lm.Matches(labels.Get(m.Name))
}

// MatchesValue reports whether the value v satisfies the matcher.
func (m *Matcher) MatchesValue(v string) bool { return m.lm.Matches(v) }

// String renders the matcher as Alertmanager does (`name="value"`, the
// name quoted too when it holds a character outside the unquoted form);
// ParseMatchers reads it back to the same matcher.
func (m *Matcher) String() string { return m.lm.String() }

// MatcherError is a matcher expression that does not parse.
type MatcherError struct {
	Input string
	Pos   int    // 1-based rune position of the problem; 0 when unknown
	Msg   string // what is wrong
}

func (e *MatcherError) Error() string {
	if e.Pos > 0 {
		return fmt.Sprintf("%s at position %d in %q", e.Msg, e.Pos, e.Input)
	}
	return fmt.Sprintf("%s in %q", e.Msg, e.Input)
}

// ParseMatchers parses one matcher line as an Alertmanager 0.35 config
// line (a route's `matchers:`) is read by default: one or more matchers,
// comma-separated, optionally in braces, a trailing comma allowed, all of
// which must match; names and values unquoted (`service=checkout`) or
// double-quoted (`{"service"="checkout"}`), so a name may be any UTF-8;
// regexps anchored (RE2). The UTF-8 parser (matcher/parse) reads it
// first; when that refuses the line, or reads it otherwise than the
// classic parser (pkg/labels) does, the classic reading is taken:
// Alertmanager's fallback mode. So in a quoted value \", \\ and \n are
// escapes and any other backslash stays as written.
//
// Unlike Alertmanager, these are errors: a line without any matcher ("",
// "{}": it would match every alert), an empty label name, a value in
// single quotes or backquotes (service='x', which Alertmanager reads with
// the quotes in the value), and text that is not UTF-8.
func ParseMatchers(s string) ([]*Matcher, error) {
	lms, err := parseAM(s)
	if err != nil {
		return nil, err
	}
	if len(lms) == 0 {
		return nil, &MatcherError{Input: s, Msg: "no matcher"}
	}
	out := make([]*Matcher, len(lms))
	for i, lm := range lms {
		out[i] = fromLabels(lm)
	}
	return out, nil
}

// parseAM is Alertmanager's fallback mode: the UTF-8 parser's reading
// unless it fails or the classic parser reads the input differently. An
// empty expression ("", "{}") gives no matchers and no error. When both
// parsers fail, the UTF-8 parser's error is kept: it says where.
//
// Two readings are refused where Alertmanager takes them: an empty label
// name (`""="x"`), which no label has; and a value wrapped in single
// quotes or backquotes ('x', `x`), which it reads with the quotes as part
// of the value. sitroom's own parser took those quotes as quoting, so a
// line written for it is an error rather than a silent change of meaning.
func parseAM(s string) ([]*labels.Matcher, error) {
	if !utf8.ValidString(s) {
		return nil, &MatcherError{Input: s, Msg: "not valid UTF-8"}
	}
	n, nErr := parse.Matchers(s)
	c, cErr := labels.ParseMatchers(s)
	switch {
	case nErr != nil && cErr != nil:
		return nil, matcherError(s, nErr)
	case nErr == nil && (cErr != nil || sameMatchers(n, c)):
		for _, m := range n {
			if m.Name == "" {
				return nil, &MatcherError{Input: s, Msg: "empty label name"}
			}
		}
		return n, nil
	}
	for _, m := range c {
		if v := m.Value; len(v) >= 2 && (v[0] == '\'' || v[0] == '`') && v[len(v)-1] == v[0] {
			return nil, &MatcherError{Input: s, Msg: fmt.Sprintf("use double quotes: Alertmanager keeps %c quotes as part of %s's value", v[0], m.Name)}
		}
	}
	return c, nil
}

func sameMatchers(a, b []*labels.Matcher) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Name != b[i].Name || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

// matcherError turns an error of the UTF-8 parser ("3:7: unexpected x:
// expected …", columns 0-based) into a MatcherError with a 1-based
// position.
func matcherError(s string, err error) *MatcherError {
	e := &MatcherError{Input: s, Msg: err.Error()}
	var se *syntax.Error
	if errors.As(err, &se) {
		e.Msg = "bad regexp: " + string(se.Code)
		if ops := strings.Count(s, "=~") + strings.Count(s, "!~"); ops == 1 {
			i := strings.Index(s, "=~")
			if i < 0 {
				i = strings.Index(s, "!~")
			}
			e.Pos = utf8.RuneCountInString(s[:i]) + 3
		}
		return e
	}
	if a, rest, ok := strings.Cut(e.Msg, ":"); ok {
		if b, rest2, ok := strings.Cut(rest, ": "); ok {
			start, err1 := strconv.Atoi(a)
			_, err2 := strconv.Atoi(b)
			if err1 == nil && err2 == nil {
				e.Msg, e.Pos = rest2, start+1
			}
		}
	}
	if strings.HasPrefix(e.Msg, "end of input") || strings.HasPrefix(e.Msg, "unexpected end of input") {
		e.Pos = utf8.RuneCountInString(s) + 1
	}
	return e
}

// MatchAll reports whether every matcher matches.
func MatchAll(ms []*Matcher, labels Labels) bool {
	for _, m := range ms {
		if !m.Matches(labels) {
			return false
		}
	}
	return true
}
