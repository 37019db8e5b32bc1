package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
	"github.com/gdamore/tcell/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sitroom/model"
	"sitroom/model/cache"
	"sitroom/model/config"
	"sitroom/sources"
	"sitroom/sources/alertmanager"
	"sitroom/sources/cloudwatch"
	"sitroom/sources/prometheus"
)

// The source fault matrix: every way an upstream can misbehave, for every
// source type, through the real poller, cache and snapshot. After a poll
// that went well, the faulty source is polled twice more; then its status
// must say what went wrong in words, its rows must still be there, marked
// stale, nothing of it may be resolved, and a healthy Alertmanager polled
// alongside must not notice.

// front stands in front of an upstream and misbehaves on demand.
type front struct {
	srv   *httptest.Server
	good  http.Handler // the upstream's proper behaviour
	mode  atomic.Value // string
	held  atomic.Int32 // requests currently held open (hang, drip)
	shape []byte       // a well-formed reply of the wrong shape
	ctype string       // the upstream's content type
	big   atomic.Int64 // bytes sent by mode "big"
}

func newFront(t *testing.T, good http.Handler, ctype string, shape []byte) *front {
	f := &front{good: good, shape: shape, ctype: ctype}
	f.mode.Store("ok")
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *front) set(mode string) { f.mode.Store(mode) }

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode := f.mode.Load().(string)
	if mode != "ok" && mode != "empty" {
		// Read the request first: the server notices a client that gave
		// up only once the request body is consumed.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	switch mode {
	case "ok", "empty":
		f.good.ServeHTTP(w, r)
	case "401", "403", "500", "502":
		w.Header().Set("Content-Type", "text/plain")
		var code int
		fmt.Sscan(mode, &code)
		w.WriteHeader(code)
		fmt.Fprintf(w, "upstream says %s", mode)
	case "429":
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, "slow down")
	case "hang":
		f.held.Add(1)
		defer f.held.Add(-1)
		<-r.Context().Done()
	case "drip":
		f.held.Add(1)
		defer f.held.Add(-1)
		rec := httptest.NewRecorder()
		f.good.ServeHTTP(rec, r)
		w.Header().Set("Content-Type", f.ctype)
		w.WriteHeader(http.StatusOK)
		for _, b := range rec.Body.Bytes() {
			if _, err := w.Write([]byte{b}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	case "truncated":
		rec := httptest.NewRecorder()
		f.good.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		body := rec.Body.Bytes()
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:len(body)/2]) // then the handler returns: the server cuts the connection
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><body><h1>Please sign in</h1></body></html>")
	case "shape":
		w.Header().Set("Content-Type", f.ctype)
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		_, _ = w.Write(f.shape)
	case "big":
		w.Header().Set("Content-Type", f.ctype)
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for sent := int64(0); sent < f.big.Load(); sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	default:
		panic("unknown fault mode " + mode)
	}
}

// amPayload is an Alertmanager /api/v2/alerts reply with n critical
// alerts named <prefix>1…n.
func amPayload(prefix string, n int) []byte {
	var b strings.Builder
	b.WriteByte('[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"labels":{"alertname":"%s%d","service":"%s","severity":"critical"},"annotations":{"summary":"%s %d"},`+
			`"startsAt":"2026-11-26T11:56:51Z","endsAt":"2099-01-01T00:00:00Z","updatedAt":"2026-11-26T12:00:00Z",`+
			`"fingerprint":"%016x","receivers":[{"name":"null"}],"status":{"state":"active","silencedBy":[],"inhibitedBy":[]}}`,
			prefix, i, prefix, prefix, i, i)
	}
	b.WriteByte(']')
	return []byte(b.String())
}

// promPayload is a Prometheus /api/v1/alerts reply with n firing alerts.
func promPayload(prefix string, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"alerts":[`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"labels":{"alertname":"%s%d","service":"%s","severity":"critical"},"annotations":{"summary":"%s %d"},`+
			`"state":"firing","activeAt":"2026-11-26T11:56:51Z","value":"1e+00"}`, prefix, i, prefix, prefix, i)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// payloadHandler serves full, or empty once empty is set.
func payloadHandler(full, empty []byte, f **front) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if (*f).mode.Load().(string) == "empty" {
			_, _ = w.Write(empty)
			return
		}
		_, _ = w.Write(full)
	})
}

// victim is the source under fault.
type victim struct {
	typ   string
	front *front
	alive int // alerts it holds while healthy
	// make builds the source reading url (the front's, or a broken one).
	make func(t *testing.T, url string) sources.Source
	// empty makes the upstream hold no alerts (for mode "empty").
	empty func()
}

const victimTimeout = 500 * time.Millisecond

// cappedSource is a source whose replies are read up to a cap.
type cappedSource interface {
	sources.Source
	SetMaxBytes(n int64)
}

// jsonVictim is the victim of type typ reading a JSON API through its
// front: full (three alerts) while healthy, empty in mode "empty" and
// shape in mode "shape". newSource builds the source reading url, which
// then reads at most 64 KiB.
func jsonVictim(t *testing.T, typ string, full, empty, shape []byte, newSource func(url string) cappedSource) *victim {
	v := &victim{typ: typ, alive: 3}
	v.front = newFront(t, payloadHandler(full, empty, &v.front), "application/json", shape)
	v.make = func(t *testing.T, url string) sources.Source {
		s := newSource(url)
		s.SetMaxBytes(64 << 10)
		return s
	}
	v.empty = func() {}
	return v
}

func promVictim(t *testing.T) *victim {
	return jsonVictim(t, "prometheus", promPayload("prom-victim", 3), []byte(`{"status":"success","data":{"alerts":[]}}`),
		[]byte(`{"status":"success","data":{"alerts":{"firing":3}}}`),
		func(url string) cappedSource { return prometheus.New("victim", url, &http.Client{}, nil) })
}

func amVictim(t *testing.T) *victim {
	return jsonVictim(t, "alertmanager", amPayload("am-victim", 3), []byte(`[]`),
		[]byte(`{"alerts":[{"labels":{"alertname":"X"}}]}`),
		func(url string) cappedSource { return alertmanager.New("victim", url, &http.Client{}, nil) })
}

func cwVictim(t *testing.T) *victim {
	const key, secret = "AKIAFAULTEXAMPLE0001", "faultPlantedSecretKey0000000000000000001"
	isolateAWS(t, key, secret, "")
	srv := cwAccount(key, secret, "cw-victim1", "cw-victim2", "cw-victim3")
	v := &victim{typ: "cloudwatch", alive: 3}
	v.front = newFront(t, srv, "application/cbor", cbor.Encode(cbor.Map{"MetricAlarms": cbor.String("three")}))
	v.make = func(t *testing.T, url string) sources.Source {
		var sc config.Source
		sc.Name, sc.Type = "victim", cloudwatch.Type
		sc.Region, sc.Endpoint, sc.STSEndpoint = "eu-west-1", url, url
		sc.States = []string{"ALARM"}
		s, err := cloudwatch.New(sc, cloudwatch.Options{MaxBackoff: 10 * time.Millisecond})
		require.NoError(t, err)
		return s
	}
	v.empty = func() { srv.SetAlarms(awsAccount, "eu-west-1", nil, nil) }
	return v
}

// fault is one misbehaviour and what the status must say about it.
type fault struct {
	mode string // the front's mode, or "refused", "dns", "tls"
	want string // regexp over the status error (the note for "empty")
	// cw overrides want for CloudWatch, whose SDK reads the body itself.
	cw string
}

var faults = []fault{
	{mode: "refused", want: `^connection refused$`, cw: `connection refused`},
	{mode: "dns", want: `^DNS lookup of sitroom-fault\.invalid failed: no such host$`, cw: `DNS lookup of sitroom-fault\.invalid failed`},
	{mode: "tls", want: `^TLS: certificate signed by unknown authority$`, cw: `^TLS: certificate signed by unknown authority$`},
	{mode: "hang", want: `^timed out after 500ms$`, cw: `^timed out`},
	{mode: "drip", want: `^timed out after 500ms$`, cw: `^timed out`},
	{mode: "401", want: `^HTTP 401 Unauthorized: upstream says 401$`, cw: `^HTTP 401 Unauthorized$`},
	{mode: "403", want: `^HTTP 403 Forbidden: upstream says 403$`, cw: `^HTTP 403 Forbidden$`},
	{mode: "429", want: `^throttled: HTTP 429 Too Many Requests: slow down \(retry after 30\)$`, cw: `^throttled: HTTP 429 Too Many Requests$`},
	{mode: "500", want: `^HTTP 500 Internal Server Error: upstream says 500$`, cw: `^HTTP 500 Internal Server Error$`},
	{mode: "502", want: `^HTTP 502 Bad Gateway: upstream says 502$`, cw: `^HTTP 502 Bad Gateway$`},
	{mode: "truncated", want: `^truncated reply$`, cw: `^truncated reply$`},
	{mode: "html", want: `^HTML page instead of JSON \(is the URL right\?\)$`, cw: `^HTML page instead of the CloudWatch API \(is the endpoint right\?\)$`},
	{mode: "shape", want: `^malformed reply: `, cw: `^malformed reply from AWS$`},
	{mode: "big", want: `^reply larger than 64 KiB$`, cw: `^reply larger than 16 MiB$`},
	{mode: "empty", want: `^empty reply; had 3 alerts$`, cw: `^empty reply; had 3 alerts$`},
}

func TestSourceFaultMatrix(t *testing.T) {
	victims := []func(*testing.T) *victim{promVictim, amVictim, cwVictim}
	for _, mk := range victims {
		v := mk(t)
		t.Run(v.typ, func(t *testing.T) {
			for _, f := range faults {
				t.Run(f.mode, func(t *testing.T) { runFault(t, v, f) })
			}
		})
	}
}

func runFault(t *testing.T, v *victim, f fault) {
	v.front.set("ok")
	v.front.big.Store(1 << 20)
	bystanderFront := newFront(t, nil, "application/json", nil)
	bystanderFront.good = payloadHandler(amPayload("bystander", 2), []byte(`[]`), &bystanderFront)
	bystander := alertmanager.New("bystander", bystanderFront.srv.URL, &http.Client{}, nil)

	c, err := cache.Open(filepath.Join(t.TempDir(), "cache.db"))
	require.NoError(t, err)
	defer c.Close()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	timeout := victimTimeout
	if f.mode == "big" {
		timeout = 20 * time.Second // reading up to the cap takes a while under -race
	}
	poller := func(src sources.Source) *sources.Poller {
		return sources.NewPoller(c, []sources.Job{
			{Source: src, Interval: time.Minute, Timeout: timeout},
			{Source: bystander, Interval: time.Minute, Timeout: 5 * time.Second},
		}, sources.PollerOptions{Now: clock})
	}
	healthy := v.make(t, v.front.srv.URL)
	p := poller(healthy)
	require.NoError(t, p.PollOnce(context.Background()))
	snap, err := p.Snapshot()
	require.NoError(t, err)
	require.Equal(t, v.alive+2, len(snap.Signals), "both sources' alerts after a good poll")

	if f.mode == "empty" {
		v.empty()
	}
	url := faultURL(t, f.mode, v.front)
	if url != v.front.srv.URL {
		p = poller(v.make(t, url))
	}
	if f.mode == "big" && v.typ == "cloudwatch" {
		v.front.big.Store(100 << 20) // no cap to set from outside: a real 100 MB reply
	}
	for i := 1; i <= 2; i++ {
		now = now.Add(time.Minute)
		err := p.PollOnce(context.Background())
		if f.mode == "empty" {
			require.NoError(t, err)
			break // held until EmptyHold has passed (model/cache TestEmptyReplyNote)
		}
		require.Error(t, err, "poll %d", i)
		assert.Contains(t, err.Error(), "victim: ")
		assert.NotContains(t, err.Error(), "bystander")
	}
	snap, err = p.Snapshot()
	require.NoError(t, err)

	want := f.want
	if v.typ == "cloudwatch" {
		want = f.cw
	}
	assertVictimStatus(t, snap, v.typ, f.mode, want)

	n, stale := 0, 0
	for _, sig := range snap.Signals {
		if len(sig.Sources) == 1 && sig.Sources[0] == "victim" {
			n++
			if sig.Stale {
				stale++
			}
		}
	}
	assert.Equal(t, v.alive, n, "every row of the victim stays")
	if f.mode != "empty" {
		assert.Equal(t, v.alive, stale, "the victim's rows are marked stale")
	}
	resolved, err := c.Resolved(time.Time{})
	require.NoError(t, err)
	assert.Empty(t, resolved, "nothing resolved by a failing source")

	by := statusOf(snap, "bystander")
	assert.Equal(t, model.HealthOK, by.Health(), "the bystander is unaffected: %q", by.LastError)
	for _, sig := range snap.Signals {
		if sig.Sources[0] == "bystander" {
			assert.False(t, sig.Stale, "the bystander's rows are fresh")
		}
	}
	// The front sees a request end shortly after the client gives up.
	assert.Eventually(t, func() bool { return v.front.held.Load() == 0 }, 5*time.Second, 10*time.Millisecond,
		"no request left hanging after the poll")
}

// faultURL sets the front misbehaving as mode says and returns the
// address the source under fault reads: the front's, or for "refused",
// "dns" and "tls" a port nobody listens on, a name that does not resolve
// or a server whose certificate nobody trusts.
func faultURL(t *testing.T, mode string, fr *front) string {
	switch mode {
	case "refused":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		url := "http://" + l.Addr().String()
		l.Close()
		return url
	case "dns":
		return "http://sitroom-fault.invalid:9093"
	case "tls":
		ts := httptest.NewTLSServer(fr.good)
		t.Cleanup(ts.Close)
		return ts.URL
	}
	fr.set(mode)
	return fr.srv.URL
}

// assertVictimStatus checks what the faulty source's status says after a
// fault: the words want matches (the note, for an empty reply), short and
// printable, and the health the chip shows — throttled for a 429,
// degraded for an empty reply, down for the rest.
func assertVictimStatus(t *testing.T, snap *model.Snapshot, typ, mode, want string) {
	t.Helper()
	st := statusOf(snap, "victim")
	said := st.LastError
	if mode == "empty" {
		said = st.Note
	}
	t.Logf("%s %s: %q", typ, mode, said)
	assert.Regexp(t, regexp.MustCompile(want), said, "the victim's status in words")
	assert.LessOrEqual(t, len(said), 300, "a status is a few words")
	for _, r := range said {
		assert.True(t, r >= ' ' && r != 0x7f, "no control character in the status: %q", said)
	}
	switch mode {
	case "429":
		assert.Equal(t, model.HealthThrottled, st.Health())
	case "empty":
		assert.Equal(t, model.HealthDegraded, st.Health())
	default:
		assert.Equal(t, model.HealthDown, st.Health())
	}
}

func statusOf(s *model.Snapshot, name string) model.SourceStatus {
	for _, st := range s.Sources {
		if st.Name == name {
			return st
		}
	}
	return model.SourceStatus{}
}

// Keys answer while a source hangs: the dashboard on the real poller, one
// Alertmanager stand-in holding every request open until the poll times
// out; the help page opens and closes, the panel switches, and the
// status line then says the source timed out while its rows stay, stale.
func TestKeysAnswerWhileASourceHangs(t *testing.T) {
	var f *front
	f = newFront(t, payloadHandler(amPayload("hung", 2), []byte(`[]`), &f), "application/json", nil)
	var g *front
	g = newFront(t, payloadHandler(amPayload("fine", 1), []byte(`[]`), &g), "application/json", nil)
	cfg := writeConfig(t, fmt.Sprintf("sources:\n  - {name: am-hung, type: alertmanager, url: %s, interval: 2s, timeout: 2s}\n  - {name: am-fine, type: alertmanager, url: %s, interval: 1s}\n", f.srv.URL, g.srv.URL))
	h := liveDashboard(t, cfg)
	waitScreen(t, h, 10*time.Second, "both sources' alerts", func(text string) bool {
		return strings.Contains(text, "hung2") && strings.Contains(text, "fine1")
	})
	f.set("hang")
	h.Type("r")
	deadline := time.Now().Add(10 * time.Second)
	for f.held.Load() == 0 {
		require.True(t, time.Now().Before(deadline), "the hung source was never polled")
		time.Sleep(10 * time.Millisecond)
	}
	h.Type("?")
	assert.True(t, h.Contains("close help"), "the help page opens while a poll hangs")
	require.NotZero(t, f.held.Load(), "still hanging while the key was answered")
	h.Key(tcell.KeyEscape)
	assert.False(t, h.Contains("close help"))
	h.Type("2")
	require.NotZero(t, f.held.Load(), "still hanging while the key was answered")

	waitScreen(t, h, 15*time.Second, "am-hung timed out and its rows stale", func(text string) bool {
		return strings.Contains(text, "timed out after 2s") && strings.Contains(text, "am-hung down")
	})
	text := strings.Join(h.Text(), "\n")
	assert.Contains(t, text, "hung1", "rows stay while the source hangs")
	assert.Regexp(t, `am-fine ok`, text, "the other source stays ok")
}
