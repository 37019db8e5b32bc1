package sources

import (
	"net/http"
	"strings"
	"time"

	"sitroom/model/cache"
)

// AlertAPI is one upstream's alerts API as a JSONSource polls it: the
// source type, the path under the base URL and the decoder of its replies.
// The Prometheus and Alertmanager sources are each one AlertAPI.
type AlertAPI struct {
	// Type is the source type, e.g. "prometheus".
	Type string
	// Path is the API path polled, with its query if any, appended to the
	// base URL.
	Path string
	// Decode reads one whole reply (through a memo when it is not nil).
	Decode MemoDecodeFunc
	// Elements, when not nil, reads a reply that is one JSON array of
	// alert objects element by element, as it arrives (see
	// MemoDecoder.DecodeStream); its results must equal Decode's.
	Elements MemoStartFunc
	// MapErr, when not nil, may turn a failed fetch into a clearer error
	// (see NewJSONSource).
	MapErr func(error) error
	// StatusPath is the API path of the upstream's status, and Started
	// reads from it when the upstream started (by its own clock): the
	// source's Uptime (see Uptimer). Empty: the source has no Uptime.
	StatusPath string
	Started    func([]byte) (time.Time, error)
}

// NewSource returns the source called name polling api.Path under baseURL
// (e.g. "http://127.0.0.1:9090", possibly with a path prefix; trailing
// slashes are dropped) with client (http.DefaultClient when nil). Its
// replies go through one NewDecoder(ignoreLabels), so the alerts of the
// last reply are reused where they did not change.
func (api *AlertAPI) NewSource(name, baseURL string, client *http.Client, ignoreLabels []string) *JSONSource {
	base := strings.TrimRight(baseURL, "/")
	dec := api.NewDecoder(ignoreLabels)
	src := NewJSONSource(name, api.Type, base+api.Path, client, dec.Decode, api.MapErr)
	src.forget = dec.Forget
	if dec.Streams() {
		src.stream = dec.DecodeStream
		src.checkReplies = func(stored func() map[cache.Digest]string) { dec.CheckReplies(api.Type, stored) }
		src.replyDigests = dec.ReplyDigests
	}
	if api.StatusPath != "" && api.Started != nil {
		src.statusURL, src.started = base+api.StatusPath, api.Started
	}
	return src
}

// NewDecoder returns a MemoDecoder of the API's replies keying alerts
// with ignore left out.
func (api *AlertAPI) NewDecoder(ignore []string) *MemoDecoder {
	d := NewMemoDecoder(ignore, api.Decode)
	d.start = api.Elements
	return d
}
