package prometheus

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/go-json-experiment/json"
)

// StatusPath is Prometheus' runtime information: when the server started
// (uptime), whether its last config reload succeeded and when the config
// it runs was loaded (health).
const StatusPath = "/api/v1/status/runtimeinfo"

// runtimeInfo is the part of StatusPath's reply sitroom reads.
type runtimeInfo struct {
	Data struct {
		StartTime           time.Time `json:"startTime"`
		ReloadConfigSuccess *bool     `json:"reloadConfigSuccess"`
		LastConfigTime      time.Time `json:"lastConfigTime"`
	} `json:"data"`
}

// readRuntimeInfo decodes a StatusPath reply.
func readRuntimeInfo(body io.Reader) (runtimeInfo, error) {
	var st runtimeInfo
	err := json.UnmarshalRead(body, &st, json.RejectUnknownMembers(false))
	return st, err
}

// started reads when Prometheus started from its runtime information.
func started(body []byte) (time.Time, error) {
	st, err := readRuntimeInfo(bytes.NewReader(body))
	if err != nil {
		return time.Time{}, err
	}
	if st.Data.StartTime.IsZero() {
		return time.Time{}, errors.New("no startTime")
	}
	return st.Data.StartTime, nil
}
