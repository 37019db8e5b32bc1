package tickets_test

import (
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/stretchr/testify/assert"

	"sitroom/sources"
	"sitroom/sources/tickets"
)

// A reply of the wrong shape is worded by where it went wrong and what
// was expected there, without the decoder's Go type names.
func TestMalformedSaysWhereAndWhat(t *testing.T) {
	type item struct {
		ID    string `json:"id"`
		Count int    `json:"count"`
	}
	type page struct {
		Items []*item `json:"items"`
	}
	for _, c := range []struct{ body, want string }{
		{`{"items":{"id":"1"}}`, "malformed reply: /items: expected an array, found an object"},
		{`{"items":[{"id":1}]}`, "malformed reply: /items/0/id: expected a string, found a number"},
		{`{"items":[{"id":"1","count":"many"}]}`, "malformed reply: /items/0/count: expected a number, found a string"},
		{`["items"]`, "malformed reply: the reply: expected an object, found an array"},
		{`{"items":[`, "malformed reply: not JSON after byte 10: unexpected EOF"},
		{`<html>`, "malformed reply: not JSON after byte 0: invalid character '<' at start of value"},
	} {
		var p page
		err := json.Unmarshal([]byte(c.body), &p)
		if !assert.Error(t, err, c.body) {
			continue
		}
		fe := tickets.Malformed(err)
		assert.Equal(t, c.want, fe.Error(), c.body)
		assert.Equal(t, sources.KindMalformed, fe.Kind)
		assert.NotContains(t, fe.Error(), "Go ", "no Go type names")
	}
}
