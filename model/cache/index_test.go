package cache

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"sitroom/model"
)

// TestEntryIndexAgreesWithAMap runs random sets, replacements and deletes
// (enough to grow the table several times and to wrap probes around its
// end) against a map, and checks every key after each step.
func TestEntryIndexAgreesWithAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var x entryIndex
	want := map[string]*entry{}
	keys := make([]string, 3000)
	for i := range keys {
		keys[i] = fmt.Sprintf("%016x", rng.Uint64())
	}
	for step := range 20000 {
		k := keys[rng.IntN(len(keys))]
		if rng.IntN(3) == 0 {
			x.del(k)
			delete(want, k)
		} else {
			e := &entry{id: int64(step), row: &model.AlertRow{Alert: model.Alert{Key: k}}}
			x.set(e)
			want[k] = e
		}
		if step%500 == 0 || step > 19900 {
			require.Equal(t, len(want), x.len(), "step %d", step)
			for _, k := range keys {
				require.Same(t, want[k], x.get(k), "step %d key %s", step, k)
			}
			n := 0
			for e := range x.all() {
				require.Same(t, want[e.row.Key], e)
				n++
			}
			require.Equal(t, len(want), n)
		}
	}
	require.Nil(t, (&entryIndex{}).get("missing"), "the zero index is empty")
}
