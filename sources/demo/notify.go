package demo

import (
	"io"
	"net/http"
	"strings"
	"sync"
)

// notifyReceiver is the demo's webhook receiver for the teams' notify
// channels: it accepts every POST under /notify/<team> and counts them.
type notifyReceiver struct {
	mu  sync.Mutex
	got map[string]int
}

func (n *notifyReceiver) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		team, ok := strings.CutPrefix(r.URL.Path, "/notify/")
		if r.Method != http.MethodPost || !ok || team == "" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		n.mu.Lock()
		if n.got == nil {
			n.got = map[string]int{}
		}
		n.got[team]++
		n.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
}

// Notified is how many notify messages the demo's receiver accepted for
// each team.
func (d *Demo) Notified() map[string]int {
	d.notified.mu.Lock()
	defer d.notified.mu.Unlock()
	out := make(map[string]int, len(d.notified.got))
	for k, v := range d.notified.got {
		out[k] = v
	}
	return out
}
