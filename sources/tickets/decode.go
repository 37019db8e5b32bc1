package tickets

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"sitroom/sources"
)

// Malformed words a failure to decode a ticket API's reply as a
// *sources.FetchError of KindMalformed: where in the reply (a JSON
// pointer) and what was expected there, e.g. "malformed reply: /items:
// expected an array, found an object", rather than the decoder's Go type
// names.
func Malformed(err error) *sources.FetchError {
	var se *json.SemanticError
	if errors.As(err, &se) && se.JSONKind != 0 {
		where := "the reply"
		if se.JSONPointer != "" {
			where = string(se.JSONPointer)
		}
		found := kindWords(se.JSONKind)
		if want := typeWords(se.GoType); want != "" && want != found {
			return sources.MalformedError(sources.Sanitize(fmt.Sprintf("%s: expected %s, found %s", where, want, found), 160))
		}
		return sources.MalformedError(sources.Sanitize(fmt.Sprintf("%s: unexpected %s", where, found), 160))
	}
	var sy *jsontext.SyntacticError
	if errors.As(err, &sy) && sy.Err != nil {
		return sources.MalformedError(sources.Sanitize(fmt.Sprintf("not JSON after byte %d: %s", sy.ByteOffset, sy.Err), 160))
	}
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "json: "), "jsontext: ")
	return sources.MalformedError(sources.Sanitize(msg, 160))
}

func kindWords(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "something else"
}

// typeWords is the JSON kind a Go type decodes from, or "" when that
// depends on the type's own decoding.
func typeWords(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || reflect.PointerTo(t).Implements(reflect.TypeFor[json.UnmarshalerFrom]()) ||
		reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) || t == reflect.TypeFor[jsontext.Value]() {
		return ""
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return ""
}
