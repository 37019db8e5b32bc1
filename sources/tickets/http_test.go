package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
	"sitroom/sources/tickets"
)

// Wrap names the step that failed and keeps the error's kind; a throttled
// error still starts with "throttled", so the source shows as throttled
// rather than down.
func TestWrapKeepsKindAndThrottledFirst(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == "/busy" {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, "slow down")
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "boom")
	}))
	defer srv.Close()
	health := func(err error) model.SourceHealth {
		st := model.SourceStatus{Name: "desk", LastAttempt: time.Now(), LastError: err.Error()}
		return st.Health()
	}
	for _, c := range []struct {
		path, want string
		kind       sources.FetchErrorKind
		health     model.SourceHealth
	}{
		{"/busy", "throttled: search: HTTP 429 Too Many Requests: slow down (retry after 30)", sources.KindThrottled, model.HealthThrottled},
		{"/boom", "search: HTTP 500 Internal Server Error: boom", sources.KindHTTP, model.HealthDown},
	} {
		err := tickets.Wrap("search", sources.GetJSON(context.Background(), srv.Client(), srv.URL+c.path, 0, nil))
		require.Error(t, err)
		assert.Equal(t, c.want, err.Error())
		assert.Equal(t, c.kind, tickets.Kind(err))
		var fe *sources.FetchError
		assert.True(t, errors.As(err, &fe), "the FetchError stays reachable")
		assert.Equal(t, c.health, health(err))
	}
	assert.NoError(t, tickets.Wrap("search", nil))
}
