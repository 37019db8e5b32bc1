package runtime

import (
	"context"
	"errors"

	"sitroom/model"
)

// AlertAnnotations reads an alert's full annotations from the cache for
// the detail view (ui.AlertDetailer): the snapshot holds only the part
// the panels draw. It runs SQL: the UI calls it on a worker goroutine.
func (r *Runtime) AlertAnnotations(ctx context.Context, key string, sources []string) (model.Labels, error) {
	if r.Cache == nil {
		return model.Labels{}, errors.New("no cache open")
	}
	return r.Cache.AlertAnnotations(ctx, key, sources)
}
