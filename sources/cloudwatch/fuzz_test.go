package cloudwatch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"sitroom/model/config"
	"sitroom/sources"
	"sitroom/sources/cloudwatch"
)

// FuzzDescribeAlarmsReply hands arbitrary bytes to the SDK's RPC v2 CBOR
// deserializer and sitroom's alarm mapping as a DescribeAlarms reply: the
// poll either maps alarms or fails with a *sources.FetchError in a few
// words, and never panics.
func FuzzDescribeAlarmsReply(f *testing.F) {
	f.Add(cbor.Encode(cbor.Map{"MetricAlarms": cbor.List{cbor.Map{"AlarmName": cbor.String("a"), "StateValue": cbor.String("ALARM")}}}))
	f.Add(cbor.Encode(cbor.Map{"MetricAlarms": cbor.String("x")}))
	f.Add(cbor.Encode(cbor.Map{"CompositeAlarms": cbor.List{cbor.Map{"AlarmName": cbor.String("c"), "AlarmRule": cbor.String("ALARM(a)"),
		"StateValue": cbor.String("ALARM"), "StateUpdatedTimestamp": &cbor.Tag{ID: 1, Value: cbor.Float64(1.7e9)}}}}))
	f.Add([]byte{0xbf, 0xff})
	f.Add([]byte("{}"))
	var reply atomic.Value
	reply.Store([]byte{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.Header().Set("Content-Type", "application/cbor")
		_, _ = w.Write(reply.Load().([]byte))
	}))
	defer srv.Close()
	var sc config.Source
	sc.Name, sc.Type, sc.Region, sc.Endpoint = "aws", cloudwatch.Type, "eu-west-1", srv.URL
	sc.StaticCredentials = &config.AWSKeys{AccessKeyID: "AKIAFUZZEXAMPLE00001", SecretAccessKey: "fuzzSecret"}
	src, err := cloudwatch.New(sc, cloudwatch.Options{MaxAttempts: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		reply.Store(b)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		alerts, err := src.Fetch(ctx)
		if err != nil {
			if _, ok := err.(*sources.FetchError); !ok {
				t.Fatalf("error %T is not a FetchError: %v", err, err)
			}
			if len(err.Error()) > 300 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		for _, a := range alerts {
			if a.Key == "" {
				t.Fatalf("alert without a key: %+v", a)
			}
		}
	})
}
