package desktest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/sources/tickets/desktest"
)

// A desk counts every request, throttled or not, answers throttled ones
// with Retry-After and its own 429, and loses exactly the replies it was
// told to.
func TestDeskCountsThrottlesAndLosesReplies(t *testing.T) {
	var d desktest.Desk
	srv := d.Serve(t, func(w http.ResponseWriter, _ *http.Request) {
		desktest.WriteJSON(w, http.StatusTooManyRequests, map[string]string{"error": "slow down"})
	}, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && d.LoseReply(w) {
			return
		}
		desktest.WriteJSON(w, http.StatusOK, map[string]string{"ok": r.URL.Path})
	})
	do := func(method string) (*http.Response, error) {
		req, err := http.NewRequest(method, srv.URL+"/x", strings.NewReader("{}"))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return resp, err
	}

	d.Throttle(2, "7")
	for range 2 {
		resp, err := do(http.MethodGet)
		require.NoError(t, err)
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, "7", resp.Header.Get("Retry-After"))
		assert.Equal(t, "application/json;charset=UTF-8", resp.Header.Get("Content-Type"))
	}
	resp, err := do(http.MethodGet)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the throttle is used up")
	assert.Empty(t, resp.Header.Get("Retry-After"))

	d.LoseReplies(-1)
	resp, err = do(http.MethodPost)
	require.NoError(t, err, "a negative count loses nothing")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	d.LoseReplies(1)
	_, err = do(http.MethodPost)
	assert.Error(t, err, "the reply is lost")
	resp, err = do(http.MethodPost)
	require.NoError(t, err, "only one")
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	assert.Equal(t, 3, d.Requests("GET /x"))
	assert.Equal(t, 3, d.Requests("POST /x"))
	assert.Zero(t, d.Requests("GET /y"))
}

func TestPagesJoinItemsInPagesOfAHundred(t *testing.T) {
	pages, size := desktest.Pages(201, "[", "]", func(w io.Writer, i int) { fmt.Fprint(w, i) })
	require.Len(t, pages, 3)
	assert.True(t, strings.HasPrefix(string(pages[0]), "[0,1,2,"))
	assert.True(t, strings.HasSuffix(string(pages[1]), ",198,199]"))
	assert.Equal(t, "[200]", string(pages[2]))
	assert.Equal(t, len(pages[0])+len(pages[1])+len(pages[2]), size)
}
