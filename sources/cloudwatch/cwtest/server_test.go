package cwtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const key, secret = "AKIATESTEXAMPLE00001", "testSecret000000000000000000000000000001"

// tamper rewrites the request body after signing, or the region.
type tamper struct {
	rt   http.RoundTripper
	body bool
}

func (t tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.body && r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		b = bytes.Replace(b, []byte("ALARM"), []byte("OK\xff\xff\xff"), 1)
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return t.rt.RoundTrip(r)
}

func client(t *testing.T, url, region, k, s string, hc *http.Client) *cw.Client {
	t.Helper()
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(k, s, ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	if hc != nil {
		cfg.HTTPClient = hc
	}
	return cw.NewFromConfig(cfg, func(o *cw.Options) { o.BaseEndpoint = aws.String(url) })
}

func serve(t *testing.T) (*Server, string) {
	srv := New()
	srv.AddIdentity(Identity{AccessKeyID: key, SecretAccessKey: secret, Account: "123456789012"})
	var m MetricAlarm
	m.AlarmName, m.StateValue = "m1", "ALARM"
	var c CompositeAlarm
	c.AlarmName, c.StateValue, c.AlarmRule = "c1", "ALARM", "ALARM(m1)"
	srv.SetAlarms("123456789012", "eu-west-1", []MetricAlarm{m}, []CompositeAlarm{c})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

func code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func TestSignaturesAreChecked(t *testing.T) {
	_, url := serve(t)
	in := &cw.DescribeAlarmsInput{StateValue: types.StateValueAlarm}
	_, err := client(t, url, "eu-west-1", key, secret, nil).DescribeAlarms(context.Background(), in)
	require.NoError(t, err)

	_, err = client(t, url, "eu-west-1", key, "wrong", nil).DescribeAlarms(context.Background(), in)
	assert.Equal(t, "SignatureDoesNotMatch", code(err))

	hc := &http.Client{Transport: tamper{rt: http.DefaultTransport, body: true}}
	_, err = client(t, url, "eu-west-1", key, secret, hc).DescribeAlarms(context.Background(), in)
	assert.Equal(t, "SignatureDoesNotMatch", code(err), "a body changed after signing is refused")

	_, err = client(t, url, "eu-west-1", "AKIAUNKNOWN000000001", secret, nil).DescribeAlarms(context.Background(), in)
	assert.Equal(t, "UnrecognizedClient", code(err))

	req, _ := http.NewRequest(http.MethodPost, url+"/service/GraniteServiceVersion20100801/operation/DescribeAlarms", nil)
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "MissingAuthenticationToken;Sender", resp.Header.Get("X-Amzn-Query-Error"), "unsigned requests are refused")
}

func TestRegionSelectsAlarmsAndTypesDefaultToMetric(t *testing.T) {
	srv, url := serve(t)
	c := client(t, url, "eu-west-1", key, secret, nil)
	out, err := c.DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{})
	require.NoError(t, err)
	assert.Len(t, out.MetricAlarms, 1)
	assert.Empty(t, out.CompositeAlarms, "without AlarmTypes only metric alarms, as CloudWatch does")

	out, err = c.DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{
		AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm, types.AlarmTypeCompositeAlarm}})
	require.NoError(t, err)
	assert.Len(t, out.CompositeAlarms, 1)
	assert.Equal(t, "ALARM(m1)", aws.ToString(out.CompositeAlarms[0].AlarmRule))

	out, err = client(t, url, "us-east-1", key, secret, nil).DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{})
	require.NoError(t, err)
	assert.Empty(t, out.MetricAlarms, "another region holds other alarms")
	reqs := srv.Requests()
	assert.Equal(t, "us-east-1", reqs[len(reqs)-1].Region)
}

func TestTokensAndLimits(t *testing.T) {
	srv, url := serve(t)
	var ms []MetricAlarm
	for _, n := range []string{"a", "b", "c"} {
		var m MetricAlarm
		m.AlarmName, m.StateValue = n, "ALARM"
		ms = append(ms, m)
	}
	srv.SetAlarms("123456789012", "eu-west-1", ms, nil)
	c := client(t, url, "eu-west-1", key, secret, nil)
	out, err := c.DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{MaxRecords: aws.Int32(2)})
	require.NoError(t, err)
	require.Len(t, out.MetricAlarms, 2)
	require.NotNil(t, out.NextToken)
	_, err = c.DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{MaxRecords: aws.Int32(2), NextToken: out.NextToken,
		StateValue: types.StateValueOk})
	var bad *types.InvalidNextToken
	assert.ErrorAs(t, err, &bad, "a token from another query is refused")
	_, err = c.DescribeAlarms(context.Background(), &cw.DescribeAlarmsInput{MaxRecords: aws.Int32(101)})
	assert.Equal(t, "InvalidParameterValue", code(err))
}
