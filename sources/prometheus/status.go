package prometheus

import (
	"errors"
	"time"

	"github.com/go-json-experiment/json"
)

// StatusPath is Prometheus' runtime information: its startTime is when the
// server started.
const StatusPath = "/api/v1/status/runtimeinfo"

// started reads when Prometheus started from its runtime information.
func started(body []byte) (time.Time, error) {
	var st struct {
		Data struct {
			StartTime time.Time `json:"startTime"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &st, json.RejectUnknownMembers(false)); err != nil {
		return time.Time{}, err
	}
	if st.Data.StartTime.IsZero() {
		return time.Time{}, errors.New("no startTime")
	}
	return st.Data.StartTime, nil
}
