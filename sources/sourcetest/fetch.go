package sourcetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
)

// Fetcher is what Fetch polls: a sources.Source, or anything else with
// its Fetch.
type Fetcher interface {
	Fetch(ctx context.Context) ([]model.Alert, error)
}

// Fetch polls src once with a 5-second deadline.
func Fetch(t testing.TB, src Fetcher) ([]model.Alert, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return src.Fetch(ctx)
}

// ByName maps alerts by their alertname; of alerts sharing a name, the
// last one is kept.
func ByName(alerts []model.Alert) map[string]model.Alert {
	m := map[string]model.Alert{}
	for _, a := range alerts {
		m[a.Name()] = a
	}
	return m
}

// CheckStoppedServerRefuses checks that src, reading srv, fetches while
// srv runs and, once srv is stopped, fails with a *sources.FetchError of
// kind KindRefused reading "connection refused". It stops srv a second
// time, as Stop is idempotent.
func CheckStoppedServerRefuses(t testing.TB, srv *Server, src Fetcher) {
	t.Helper()
	_, err := Fetch(t, src)
	require.NoError(t, err)

	srv.Stop()
	_, err = Fetch(t, src)
	var fe *sources.FetchError
	require.True(t, errors.As(err, &fe), "error %v is a FetchError", err)
	assert.Equal(t, sources.KindRefused, fe.Kind)
	assert.Equal(t, "connection refused", err.Error())
	srv.Stop() // idempotent
}
