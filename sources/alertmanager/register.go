package alertmanager

import (
	"net/http"

	"sitroom/sources"
)

// Type is the config's source type of an Alertmanager.
const Type = "alertmanager"

func init() {
	sources.RegisterHTTP(Type, func(name, baseURL string, client *http.Client, ignore []string) sources.Source {
		return New(name, baseURL, client, ignore)
	})
}
