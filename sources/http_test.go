package sources

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	pconfig "github.com/prometheus/common/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v2"

	"sitroom/model"
)

func decodeAny(r io.Reader) error {
	var v any
	return stdjson.NewDecoder(r).Decode(&v)
}

func fetchErr(t *testing.T, err error) *FetchError {
	t.Helper()
	var fe *FetchError
	require.True(t, errors.As(err, &fe), "error %v (%T) is a *FetchError", err, err)
	return fe
}

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(url string, maxBytes int64, decode func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return GetJSON(ctx, http.DefaultClient, url, maxBytes, decode)
}

func TestGetJSONSendsHeadersAndDecodes(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		assert.Equal(t, "sitroom", r.Header.Get("User-Agent"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	})
	var got map[string]bool
	err := get(srv.URL, 0, func(r io.Reader) error { return stdjson.NewDecoder(r).Decode(&got) })
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"ok": true}, got)
}

func TestGetJSONConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	err = get("http://"+addr+"/api", 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindRefused, fe.Kind)
	assert.Equal(t, "connection refused", err.Error())
}

func TestGetJSONDNSFailure(t *testing.T) {
	err := get("http://no-such-host.invalid/api", 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Contains(t, []FetchErrorKind{KindDNS, KindTimeout}, fe.Kind)
	assert.True(t, strings.HasPrefix(err.Error(), "DNS lookup of no-such-host.invalid failed"), err.Error())
}

func TestGetJSONTLSUnknownAuthority(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	err := get(srv.URL, 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindTLS, fe.Kind)
	assert.Equal(t, "TLS: certificate signed by unknown authority", err.Error())
}

func TestGetJSONHTTPSToPlainServer(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {})
	err := get(strings.Replace(srv.URL, "http://", "https://", 1), 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindTLS, fe.Kind)
	assert.True(t, strings.HasPrefix(err.Error(), "TLS: "), err.Error())
}

func TestGetJSONTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := GetJSON(ctx, http.DefaultClient, srv.URL, 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindTimeout, fe.Kind)
	assert.Equal(t, "timed out after 300ms", err.Error())
}

func TestGetJSONTimeoutWhileReadingBody(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"a":`)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second/10)
	defer cancel()
	err := GetJSON(ctx, http.DefaultClient, srv.URL, 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindTimeout, fe.Kind)
	assert.Equal(t, "timed out after 1s", err.Error())
}

func TestGetJSONHTTPStatusWithSanitizedSnippet(t *testing.T) {
	body := "overloaded\x1b[31m\x07 \u202eevil\n\n" + strings.Repeat("x", 500)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, body)
	})
	err := get(srv.URL, 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindHTTP, fe.Kind)
	assert.Equal(t, 503, fe.Status)
	const head = "HTTP 503 Service Unavailable: "
	require.True(t, strings.HasPrefix(err.Error(), head), err.Error())
	snippet := strings.TrimPrefix(err.Error(), head)
	assert.LessOrEqual(t, len(snippet), 120)
	assert.True(t, strings.HasPrefix(snippet, "overloaded[31m evil xxx"), snippet)
	assert.True(t, strings.HasSuffix(snippet, "…"), snippet)
	for _, r := range snippet {
		assert.False(t, r < 0x20 || r == 0x7f || r == '\u202e', "control or bidi rune %U left in %q", r, snippet)
	}
	assert.Equal(t, []byte(body), fe.Body, "the raw body is kept for API-specific decoding")
}

func TestGetJSONHTMLInsteadOfJSON(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><title>Login</title></html>")
	})
	err := get(srv.URL, 0, func(io.Reader) error { t.Error("decode called on HTML"); return nil })
	fe := fetchErr(t, err)
	assert.Equal(t, KindHTML, fe.Kind)
	assert.Equal(t, "HTML page instead of JSON (is the URL right?)", err.Error())
}

func TestGetJSONHTMLErrorPageHasNoSnippet(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><body>not here</body></html>")
	})
	err := get(srv.URL, 0, decodeAny)
	assert.Equal(t, "HTTP 404 Not Found (HTML page)", err.Error())
}

func TestGetJSONMalformed(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status": nope}`)
	})
	err := get(srv.URL, 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindMalformed, fe.Kind)
	assert.True(t, strings.HasPrefix(err.Error(), "malformed reply: invalid character 'o'"), err.Error())
}

func TestGetJSONEmptyBody(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {})
	err := get(srv.URL, 0, decodeAny)
	assert.Equal(t, "malformed reply: empty body", err.Error())
}

func TestGetJSONTruncatedByConnection(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "1000")
		fmt.Fprint(w, `[{"labels":{"a":"b"}},`)
	})
	err := get(srv.URL, 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindTruncated, fe.Kind)
	assert.Equal(t, "truncated reply", err.Error())
}

func TestGetJSONTruncatedDocument(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[{"labels":{"a":"b"}},`)
	})
	err := get(srv.URL, 0, decodeAny)
	assert.Equal(t, KindTruncated, fetchErr(t, err).Kind)
	sc := NewJSONScanner()
	err = get(srv.URL, 0, func(r io.Reader) error {
		b, err := ReadAll(nil, r)
		if err != nil {
			return err
		}
		sc.Reset(b)
		_, err = sc.Array("alerts", sc.Skip)
		return err
	})
	assert.Equal(t, KindTruncated, fetchErr(t, err).Kind, "the scanner reports truncation the same way")
	assert.Equal(t, "truncated reply", err.Error())
}

func TestGetJSONTooLarge(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "["+strings.Repeat(`"xxxxxxxx",`, 200)+`"x"]`)
	})
	err := get(srv.URL, 1024, func(r io.Reader) error { _, err := ReadAll(nil, r); return err })
	fe := fetchErr(t, err)
	assert.Equal(t, KindTooLarge, fe.Kind)
	assert.Equal(t, "reply larger than 1 KiB", err.Error())

	// Exactly at the limit is fine.
	exact := serve(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `["`+strings.Repeat("y", 1020)+`"]`) })
	assert.NoError(t, get(exact.URL, 1024, decodeAny))

	assert.Equal(t, "reply larger than 256 MiB", (&FetchError{Kind: KindTooLarge, Msg: "reply larger than " + formatMiB(DefaultMaxBytes)}).Error())
}

func TestGetJSONBadURL(t *testing.T) {
	err := get("http://user:s3cret@bad host/", 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindRequest, fe.Kind)
	assert.NotContains(t, err.Error(), "s3cret")
}

func TestSanitize(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"  lots \t of\n\nspace  ", "lots of space"},
		{"esc\x1b[2Jape", "esc[2Jape"},
		{"bidi\u202eoverride\u2066", "bidioverride"},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{"[red]tview tag", "[red]tview tag"}, // inert text, not interpreted here
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Sanitize(c.in, 120), "%q", c.in)
	}
	long := Sanitize(strings.Repeat("é", 100), 120)
	assert.LessOrEqual(t, len(long), 120)
	assert.True(t, utf8.ValidString(long))
	assert.True(t, strings.HasSuffix(long, "…"))
}

func TestNewHTTPClientAppliesConfig(t *testing.T) {
	var cfg pconfig.HTTPClientConfig
	require.NoError(t, yaml.UnmarshalStrict([]byte(`
basic_auth: {username: noc, password: hunter2}
http_headers:
  X-Scope-OrgID: {values: [tenant-a]}
`), &cfg))
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		assert.True(t, ok)
		assert.Equal(t, "noc", user)
		assert.Equal(t, "hunter2", pass)
		assert.Equal(t, "tenant-a", r.Header.Get("X-Scope-OrgID"))
		assert.Equal(t, "sitroom", r.Header.Get("User-Agent"))
		fmt.Fprint(w, `{}`)
	})
	c, err := NewHTTPClient(cfg, "prom-eu")
	require.NoError(t, err)
	require.NoError(t, GetJSON(context.Background(), c, srv.URL, 0, decodeAny))
}

func TestNewHTTPClientErrorsHideSecrets(t *testing.T) {
	const secret = pconfig.Secret("hunter2")
	for name, cfg := range map[string]pconfig.HTTPClientConfig{
		"password and password_file": {BasicAuth: &pconfig.BasicAuth{Username: "noc", Password: secret, PasswordFile: "/run/secrets/x"}},
		"two kinds of auth":          {BasicAuth: &pconfig.BasicAuth{Username: "noc", Password: secret}, Authorization: &pconfig.Authorization{Credentials: secret}},
		"missing CA file":            {BearerToken: secret, TLSConfig: pconfig.TLSConfig{CAFile: "/nonexistent/ca.pem"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewHTTPClient(cfg, "prom-eu")
			require.Error(t, err)
			assert.Contains(t, err.Error(), `source "prom-eu": http config: `)
			assert.NotContains(t, err.Error(), string(secret))
		})
	}
}

func TestLabelsKeyMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		labels := map[string]string{}
		for k := rng.IntN(12); k > 0; k-- {
			labels[fmt.Sprintf("l%d", rng.IntN(20))] = fmt.Sprintf("v%d\xff", rng.IntN(5))
		}
		var ignore []string
		if rng.IntN(2) == 0 {
			ignore = []string{"l1", "l2", "absent"}
		}
		assert.Equal(t, model.LabelsKey(model.LabelsFromMap(labels), ignore), LabelsKey(model.LabelsFromMap(labels), ignore))
	}
}

func TestScannerLabelsKeyAndDuplicates(t *testing.T) {
	sc := NewJSONScanner()
	sc.Reset([]byte(`{"b":"2","a":"1","cluster":"eu","a":"3"}`))
	m, key, err := sc.Labels("labels", []string{"cluster"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "3", "b": "2", "cluster": "eu"}, m.Map(), "the last duplicate wins")
	assert.Equal(t, model.LabelsKey(m, []string{"cluster"}), key)

	sc.Reset([]byte(`{"z":"\u00e9\n\"q\"","y":"` + "\xff" + `"}`))
	m, key, err = sc.Labels("labels", nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"z": "é\n\"q\"", "y": "\ufffd"}, m.Map(), "escapes decoded, invalid UTF-8 replaced")
	assert.Equal(t, model.LabelsKey(m, nil), key)
}

func TestScannerRejectsBadSyntax(t *testing.T) {
	for _, in := range []string{
		`[1,]`, `[01]`, `[1.]`, `[-]`, `{"a" 1}`, `{"a":1,}`, `[tru]`, `["a` + "\x01" + `"]`, `["\x"]`, `[1] [2]`, `{a:1}`,
		strings.Repeat("[", 1000) + strings.Repeat("]", 1000),
	} {
		sc := NewJSONScanner()
		sc.Reset([]byte(in))
		err := sc.Skip()
		if err == nil {
			err = sc.End()
		}
		if assert.Error(t, err, "%q", in) {
			assert.Contains(t, []FetchErrorKind{KindMalformed, KindTruncated}, fetchErr(t, err).Kind)
		}
	}
	for _, in := range []string{`[1,-0.5e+3,true,false,null,{"a":[{}]},"\ud83d\ude00"]`, ` {} `} {
		sc := NewJSONScanner()
		sc.Reset([]byte(in))
		assert.NoError(t, sc.Skip(), in)
		assert.NoError(t, sc.End(), in)
	}
}

// Skip checks strings without unquoting them; it must accept exactly the
// strings that reading them does, and end at the same place.
func FuzzScannerSkipStringMatchesString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\u0026b\/c\n"`, `"\ud83d\ude00"`, `"\ud800"`, `"\ud800x"`, `"\x"`,
		"\"ctl\x01\"", `"\u12"`, `"unterminated`, "\"\xff\xfe\"", `"long string with no escapes at all, more than eight bytes"` + `,1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || data[0] != '"' {
			return
		}
		a, b := NewJSONScanner(), NewJSONScanner()
		a.Reset(data)
		b.Reset(data)
		errSkip := a.Skip()
		_, errRead := b.String("s")
		require.Equal(t, errRead == nil, errSkip == nil, "skip: %v, read: %v", errSkip, errRead)
		if errRead == nil {
			assert.Equal(t, b.pos, a.pos)
		} else {
			assert.Equal(t, errRead.Error(), errSkip.Error())
		}
	})
}

func TestPlainRunFindsFirstSpecialByte(t *testing.T) {
	for n := 0; n < 40; n++ {
		for _, special := range []byte{'"', '\\', 0x00, 0x1f} {
			d := []byte(strings.Repeat("aé~ ", 10))[:n]
			d = append(d, special, '"', 0x01)
			assert.Equal(t, n, plainRun(d, 0), "special %q after %d bytes", special, n)
		}
		assert.Equal(t, n, plainRun([]byte(strings.Repeat("\x7f\x80\xff ", 10))[:n], 0))
	}
}

func TestAlertMemoReusesCommittedAlertsOnly(t *testing.T) {
	m := NewAlertMemo()
	h1 := m.Mix(m.Mix(RawHash{}, 1, []byte(`{"a":"1"}`)), 2, []byte(`"x"`))
	h2 := m.Mix(m.Mix(RawHash{}, 2, []byte(`"x"`)), 1, []byte(`{"a":"1"}`))
	h3 := m.Mix(m.Mix(RawHash{}, 1, []byte(`{"a":"1"}`)), 3, []byte(`"x"`))
	assert.NotEqual(t, h1, h2, "member order counts")
	assert.NotEqual(t, h1, h3, "member names count")
	assert.Equal(t, h1, m.Mix(m.Mix(RawHash{}, 1, []byte(`{"a":"1"}`)), 2, []byte(`"x"`)))

	a := model.Alert{Key: "k1", Labels: model.LabelsFromMap(map[string]string{"a": "1"})}
	m.Keep(h1, &a)
	_, ok := m.Lookup(h1)
	assert.False(t, ok, "nothing is reused before Commit")
	m.Commit()
	got, ok := m.Lookup(h1)
	require.True(t, ok)
	assert.Equal(t, a, got)

	m.Keep(h2, &a) // a decode that fails
	m.Discard()
	_, ok = m.Lookup(h1)
	assert.True(t, ok, "a failed decode keeps the last good poll")
	_, ok = m.Lookup(h2)
	assert.False(t, ok)

	m.Commit() // a poll that returned nothing
	_, ok = m.Lookup(h1)
	assert.False(t, ok, "alerts gone from the last poll are forgotten")
	assert.Equal(t, 0, m.Len())
}

func TestGetJSONTooManyRequestsIsThrottled(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	err := get(srv.URL, 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindThrottled, fe.Kind)
	assert.Equal(t, "throttled: HTTP 429 Too Many Requests: slow down (retry after 30)", err.Error())
	st := model.SourceStatus{LastAttempt: time.Now(), LastError: err.Error()}
	assert.Equal(t, model.HealthThrottled, st.Health(), "the chip reads throttled, not down")
}

// A poll whose deadline passed before the request started says how long it
// waited, never a negative duration.
func TestGetJSONDeadlineAlreadyPassed(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("[]")) })
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err := GetJSON(ctx, http.DefaultClient, srv.URL, 0, decodeAny)
	fe := fetchErr(t, err)
	assert.Equal(t, KindTimeout, fe.Kind)
	assert.NotContains(t, err.Error(), "-")
	assert.Contains(t, err.Error(), "timed out after")
}

// Whether an upstream's refusal is worth retrying: the action outbox gives
// up on a permanent failure and keeps every other.
func TestFetchErrorPermanentByStatus(t *testing.T) {
	for code, want := range map[int]bool{
		400: true, 403: true, 404: true, 409: true, 422: true,
		401: false, 408: false, 429: false, 500: false, 502: false, 503: false,
	} {
		srv := serve(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", code) })
		err := Do(context.Background(), http.DefaultClient, http.MethodPost, srv.URL, "application/json", strings.NewReader("{}"), 0, nil)
		assert.Equal(t, want, fetchErr(t, err).Permanent(), "HTTP %d", code)
	}
	srv := serve(t, func(http.ResponseWriter, *http.Request) {})
	srv.Close()
	err := Do(context.Background(), http.DefaultClient, http.MethodPost, srv.URL, "", nil, 0, nil)
	assert.False(t, fetchErr(t, err).Permanent(), "connection refused is retried")
	err = Do(context.Background(), http.DefaultClient, http.MethodPost, "http://[::1", "", nil, 0, nil)
	assert.True(t, fetchErr(t, err).Permanent(), "a request that cannot be built never will be")
}

// DoRequest keeps the caller's headers and reports the 2xx status.
func TestDoRequestKeepsHeadersAndReturnsStatus(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "k-1", r.Header.Get("Idempotency-Key"))
		assert.Equal(t, UserAgent, r.Header.Get("User-Agent"))
		w.WriteHeader(http.StatusAccepted)
	})
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header.Set("Idempotency-Key", "k-1")
	code, err := DoRequest(http.DefaultClient, req, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, code)
}
