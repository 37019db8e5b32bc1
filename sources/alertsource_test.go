package sources_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/sources"
)

// An AlertAPI's source polls its path under the base URL, path prefix
// kept and trailing slashes dropped, decodes through one memo decoder
// keyed with the ignore labels, and maps failed fetches with MapErr.
func TestAlertAPINewSource(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.RequestURI())
		mu.Unlock()
		if r.URL.Query().Get("fail") != "" {
			http.Error(w, "no", http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(`["x"]`))
	}))
	defer srv.Close()

	var decodes int
	var memos []*sources.AlertMemo
	api := sources.AlertAPI{
		Type: "fake",
		Path: "/api/alerts?all=true",
		Decode: func(sc *sources.JSONScanner, memo *sources.AlertMemo, data []byte, ignore []string) ([]model.Alert, error) {
			decodes++
			memos = append(memos, memo)
			assert.Equal(t, `["x"]`, string(data))
			assert.Equal(t, []string{"cluster"}, ignore)
			return []model.Alert{{Labels: model.LabelsFromMap(map[string]string{"alertname": "A"})}}, nil
		},
	}
	src := api.NewSource("f", srv.URL+"/prefix//", nil, []string{"cluster"})
	assert.Equal(t, "fake", src.Type())
	assert.Equal(t, "f", src.Name())
	for range 2 {
		alerts, err := src.Fetch(context.Background())
		require.NoError(t, err)
		require.Len(t, alerts, 1)
	}
	mu.Lock()
	assert.Equal(t, []string{"/prefix/api/alerts?all=true", "/prefix/api/alerts?all=true"}, got)
	mu.Unlock()
	require.Equal(t, 2, decodes)
	require.NotNil(t, memos[0], "replies go through a memo decoder")
	assert.Same(t, memos[0], memos[1], "one decoder from poll to poll")

	mapped := errors.New("mapped")
	api.Path = "/api/alerts?fail=1"
	api.MapErr = func(err error) error {
		var fe *sources.FetchError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, http.StatusBadGateway, fe.Status)
		return mapped
	}
	_, err := api.NewSource("f", srv.URL, nil, nil).Fetch(context.Background())
	assert.Same(t, mapped, err)
}
