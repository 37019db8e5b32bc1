package sourcetest

import (
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
)

// DecodeFunc decodes one whole reply of an upstream with sc, keying its
// alerts with ignore left out: the Decode of package prometheus or
// alertmanager.
type DecodeFunc func(sc *sources.JSONScanner, data []byte, ignore []string) ([]model.Alert, error)

// Decoding is one upstream's decoding as its package exports it, with the
// replies captured from its real server, for the decode tests every
// source package decoding JSON alerts runs.
type Decoding struct {
	// Upstream is the folder under testdata holding the captured
	// replies, e.g. "prometheus".
	Upstream string
	// Payloads name the captured replies in it.
	Payloads []string
	// Decode decodes one reply without a memo.
	Decode DecodeFunc
	// NewDecoder returns a decoder reusing the alerts of its last reply.
	NewDecoder func(ignore []string) *sources.MemoDecoder
}

// Payload returns the captured reply name (see ReadPayload).
func (d *Decoding) Payload(t testing.TB, name string) []byte {
	t.Helper()
	return ReadPayload(t, d.Upstream, name)
}

// AddPayloads adds every captured reply to f's seed corpus.
func (d *Decoding) AddPayloads(f *testing.F) {
	f.Helper()
	for _, name := range d.Payloads {
		f.Add(d.Payload(f, name))
	}
}

// DecodeError is a reply Decode must refuse and the error it must give.
type DecodeError struct {
	// In is the reply.
	In string
	// Kind is the kind of the *sources.FetchError.
	Kind sources.FetchErrorKind
	// Msg is the error's text.
	Msg string
}

// CheckErrors runs one subtest per case, named by its key: Decode, with a
// new scanner and no ignored labels, must fail with a *sources.FetchError
// of the case's Kind whose text is its Msg.
func (d *Decoding) CheckErrors(t *testing.T, cases map[string]DecodeError) {
	t.Helper()
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := d.Decode(sources.NewJSONScanner(), []byte(c.In), nil)
			var fe *sources.FetchError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, c.Kind, fe.Kind)
			assert.Equal(t, c.Msg, err.Error())
		})
	}
}

// Fuzz fuzzes Decode with ignore, one scanner for every input. A refused
// input must give a *sources.FetchError with a one-line, non-empty
// message; an accepted one must be valid JSON (duplicate names and
// invalid UTF-8 allowed) and give alerts each in one of states, with
// labels, keyed with ignore left out and passing check. Seed f first.
func (d *Decoding) Fuzz(f *testing.F, ignore []string, states []model.State, check func(t *testing.T, a model.Alert)) {
	f.Helper()
	sc := sources.NewJSONScanner()
	valid := []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}
	f.Fuzz(func(t *testing.T, data []byte) {
		alerts, err := d.Decode(sc, data, ignore)
		if err != nil {
			var fe *sources.FetchError
			if assert.ErrorAs(t, err, &fe) {
				assert.NotEmpty(t, fe.Msg)
				assert.NotContains(t, fe.Msg, "\n")
			}
			return
		}
		assert.True(t, jsontext.Value(data).IsValid(valid...), "accepted invalid JSON %q", data)
		for _, a := range alerts {
			assert.Contains(t, states, a.State)
			assert.NotNil(t, a.Labels)
			assert.Equal(t, model.LabelsKey(a.Labels, ignore), a.Key)
			check(t, a)
		}
	})
}

// CheckAcrossPolls feeds one decoder from NewDecoder(ignore) the replies
// polls, then every captured reply, then all of those once more, as
// successive polls: whatever the reply before, each result must equal
// Decode's with a new scanner, or fail with the same error.
func (d *Decoding) CheckAcrossPolls(t *testing.T, ignore []string, polls []string) {
	t.Helper()
	polls = polls[:len(polls):len(polls)]
	for _, name := range d.Payloads {
		polls = append(polls, string(d.Payload(t, name)))
	}
	polls = append(polls, polls...)
	dec := d.NewDecoder(ignore)
	for i, p := range polls {
		want, wantErr := d.Decode(sources.NewJSONScanner(), []byte(p), ignore)
		got, err := dec.Decode([]byte(p))
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error(), "poll %d", i)
			continue
		}
		require.NoError(t, err, "poll %d", i)
		require.Equal(t, want, got, "poll %d", i)
	}
}

// FuzzAfterPrimer fuzzes a decoder from NewDecoder(ignore) that has first
// decoded the captured reply primer: decoding the input, twice, must give
// what Decode gives with a new scanner, or the same error. Seed f first.
func (d *Decoding) FuzzAfterPrimer(f *testing.F, primer string, ignore []string) {
	f.Helper()
	first := d.Payload(f, primer)
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := d.NewDecoder(ignore)
		_, err := dec.Decode(first)
		require.NoError(t, err)
		want, wantErr := d.Decode(sources.NewJSONScanner(), data, ignore)
		for range 2 {
			got, err := dec.Decode(data)
			if wantErr != nil {
				require.EqualError(t, err, wantErr.Error())
				continue
			}
			require.NoError(t, err)
			require.Equal(t, want, got)
		}
	})
}
