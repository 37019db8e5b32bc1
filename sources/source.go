// Package sources holds what fetches alerts from upstream systems: the
// Source interface, the shared HTTP client built from prometheus/common's
// HTTPClientConfig, the registry of source types and the poller that runs
// each source on its schedule and writes what it fetches into the cache.
package sources

import (
	"context"

	"sitroom/model"
)

// Source fetches the current alerts of one upstream system.
//
// Fetch is called from one goroutine at a time per source (the poller never
// overlaps polls of the same source). It returns every alert the upstream
// holds now, or an error saying in words what went wrong; it must honour ctx
// cancellation and deadline.
type Source interface {
	Name() string
	Type() string
	Fetch(ctx context.Context) ([]model.Alert, error)
}

// OneShot is implemented by sources that keep something of each reply
// for the next poll (a decoder's memo of the alerts it decoded) and can
// do without: told that the next poll is the last, they keep nothing.
type OneShot interface{ OneShot() }
