package prometheus

import (
	"net/http"

	"sitroom/sources"
)

// Type is the config's source type of a Prometheus server.
const Type = "prometheus"

func init() {
	sources.RegisterHTTP(Type, func(name, baseURL string, client *http.Client, ignore []string) sources.Source {
		return New(name, baseURL, client, ignore)
	})
}
