package sources

import (
	"fmt"
	"net/http"
	"sync"

	"sitroom/model/config"
)

// Registry maps a config entry's source type to what builds a T from the
// entry. Packages register their types in their init functions (as
// database/sql drivers do), so that adding a type is adding a package;
// a registry is written only then. The zero value is ready to use.
type Registry[T any] struct {
	what string // "source", "ticket source": for errors
	mu   sync.RWMutex
	m    map[string]func(config.Source) (T, error)
}

// NewRegistry returns an empty registry of what (named in its errors).
func NewRegistry[T any](what string) *Registry[T] { return &Registry[T]{what: what} }

// Register makes type typ available to New. It panics when typ is
// registered twice: two packages claiming one type is a programming error.
func (r *Registry[T]) Register(typ string, f func(config.Source) (T, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[typ]; dup {
		panic(r.what + " type " + typ + " registered twice")
	}
	if r.m == nil {
		r.m = map[string]func(config.Source) (T, error){}
	}
	r.m[typ] = f
}

// New builds what a config entry describes, by its type.
func (r *Registry[T]) New(sc config.Source) (T, error) {
	r.mu.RLock()
	f := r.m[sc.Type]
	r.mu.RUnlock()
	if f == nil {
		var zero T
		return zero, fmt.Errorf("unsupported %s type %q", r.what, sc.Type)
	}
	return f(sc)
}

// Alert sources by type: prometheus, alertmanager, cloudwatch.
var alertSources = NewRegistry[Source]("source")

// Register makes the alert source type typ available to New.
func Register(typ string, f func(config.Source) (Source, error)) { alertSources.Register(typ, f) }

// New builds the alert source a config entry describes, by its type.
func New(sc config.Source) (Source, error) { return alertSources.New(sc) }

// RegisterHTTP registers an alert source type read over HTTP: newSource
// gets the entry's name, base URL, an HTTP client built from its
// HTTPClientConfig, and the labels to leave out of alert keys.
func RegisterHTTP(typ string, newSource func(name, baseURL string, client *http.Client, ignoreLabels []string) Source) {
	Register(typ, func(sc config.Source) (Source, error) {
		hc, err := NewHTTPClient(sc.HTTP, sc.Name)
		if err != nil {
			return nil, err
		}
		return newSource(sc.Name, sc.URL, hc, sc.MatchIgnoreLabels), nil
	})
}

// AlertmanagerNamer is a source whose upstream sends alerts to
// Alertmanagers and reports on them (a Prometheus server: "not
// receiving"): told the configured Alertmanager sources' names by their
// base URLs, it names those Alertmanagers as the config does.
type AlertmanagerNamer interface {
	NameAlertmanagers(byURL map[string]string)
}
