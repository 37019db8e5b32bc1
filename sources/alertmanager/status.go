package alertmanager

import (
	"errors"
	"time"

	"github.com/go-json-experiment/json"
)

// StatusPath is the Alertmanager's status: its uptime field is when it
// started.
const StatusPath = "/api/v2/status"

// started reads when the Alertmanager started from its /api/v2/status.
func started(body []byte) (time.Time, error) {
	var st struct {
		Uptime time.Time `json:"uptime"`
	}
	if err := json.Unmarshal(body, &st, json.RejectUnknownMembers(false)); err != nil {
		return time.Time{}, err
	}
	if st.Uptime.IsZero() {
		return time.Time{}, errors.New("no uptime")
	}
	return st.Uptime, nil
}
