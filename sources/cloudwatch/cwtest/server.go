// Package cwtest is a CloudWatch test server that speaks the wire protocol
// of the current AWS SDK for Go: Smithy RPC v2 CBOR for CloudWatch
// (DescribeAlarms with pagination and state filtering, ListTagsForResource)
// and the awsQuery XML protocol for STS (GetCallerIdentity, AssumeRole).
// Every request must carry a valid SigV4 signature, made with a key the
// server knows, for the right service; the credential scope's region picks
// which alarms answer. Errors come back shaped as AWS sends them
// (Throttling, AccessDenied, ExpiredToken, ...), on demand.
//
// It backs the CloudWatch source's tests and `sitroom --demo`.
package cwtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/cbor"
)

// Identity is a principal the server accepts: its keys and who it is.
type Identity struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, must come with every request
	// (X-Amz-Security-Token), as for temporary credentials.
	SessionToken string
	Account      string // 12 digits
	ARN          string // e.g. arn:aws:iam::123456789012:user/noc
	UserID       string
	// Expired makes every request with these keys fail with ExpiredToken.
	Expired bool
	// Deny lists the actions refused with AccessDenied, e.g.
	// "cloudwatch:DescribeAlarms".
	Deny []string
}

// Role is an IAM role that an identity may assume through STS AssumeRole.
type Role struct {
	ARN        string // arn:aws:iam::210987654321:role/noc-read
	ExternalID string // required when set
	Account    string
}

// Request records one request the server answered.
type Request struct {
	Service   string // monitoring or sts
	Operation string
	Region    string
	AccessKey string
	// StateValue and NextToken of a DescribeAlarms call.
	StateValue string
	NextToken  string
	Status     int
}

// Server answers CloudWatch and STS calls. Its methods are safe for
// concurrent use with requests being served.
type Server struct {
	// DefaultPageSize is how many alarms a DescribeAlarms page holds when
	// the request gives no MaxRecords (default 50).
	DefaultPageSize int
	// Now is the clock used to check request signatures' dates (default
	// time.Now).
	Now func() time.Time
	// Alarms, when set, supplies the alarms of an account and region at
	// the moment of each request, in place of SetAlarms (the demo's alarms
	// follow its scenario clock). It is called on the serving goroutine.
	Alarms func(account, region string) ([]MetricAlarm, []CompositeAlarm)

	mu         sync.Mutex
	identities map[string]*Identity // by access key
	roles      map[string]Role
	alarms     map[string]*alarmSet // by account/region
	tags       map[string][]Tag     // by alarm ARN
	failures   []failure
	requests   []Request
	noRecord   bool // RecordRequests(false)
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type alarmSet struct {
	metric    []MetricAlarm
	composite []CompositeAlarm
}

type failure struct {
	op    string
	code  string
	times int
}

// New returns a server that knows no identities and no alarms.
func New() *Server {
	return &Server{
		identities: map[string]*Identity{},
		roles:      map[string]Role{},
		alarms:     map[string]*alarmSet{},
		tags:       map[string][]Tag{},
	}
}

// AddIdentity lets id's keys sign requests.
func (s *Server) AddIdentity(id Identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := id
	s.identities[id.AccessKeyID] = &c
}

// SetExpired marks the identity with the given access key expired (or not).
func (s *Server) SetExpired(accessKey string, expired bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := s.identities[accessKey]; id != nil {
		id.Expired = expired
	}
}

// AddRole lets any known identity assume r.
func (s *Server) AddRole(r Role) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[r.ARN] = r
}

// SetAlarms replaces the alarms of one account in one region. The alarms
// are served in name order, as CloudWatch does.
func (s *Server) SetAlarms(account, region string, metric []MetricAlarm, composite []CompositeAlarm) {
	m := append([]MetricAlarm(nil), metric...)
	c := append([]CompositeAlarm(nil), composite...)
	sort.SliceStable(m, func(i, j int) bool { return m[i].AlarmName < m[j].AlarmName })
	sort.SliceStable(c, func(i, j int) bool { return c[i].AlarmName < c[j].AlarmName })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alarms[account+"/"+region] = &alarmSet{metric: m, composite: c}
}

// SetTags sets the tags ListTagsForResource returns for an alarm ARN.
func (s *Server) SetTags(arn string, tags []Tag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tags[arn] = append([]Tag(nil), tags...)
}

// Fail makes the next n calls of operation op (e.g. "DescribeAlarms",
// "GetCallerIdentity") fail with the AWS error code (Throttling,
// AccessDenied, ExpiredToken, InvalidNextToken, InternalFailure,
// ServiceUnavailable).
func (s *Server) Fail(op, code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{op: op, code: code, times: n})
}

// Requests returns the requests answered so far, oldest first. A request
// is in the record from the moment its reply starts, before the client
// can read any of it.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// RecordRequests turns the record Requests returns on (the default) or
// off. A server that answers for as long as a process runs, as the
// demo's, turns it off: the record would grow with every poll.
func (s *Server) RecordRequests(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noRecord = !on
	if !on {
		s.requests = nil
	}
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.noRecord {
		s.requests = append(s.requests, r)
	}
}

// recordingWriter records its request, with the reply's status, as the
// reply starts: before any byte of it can reach the client, so a client
// that has read a reply (or part of one) finds its request in Requests.
type recordingWriter struct {
	http.ResponseWriter
	s        *Server
	rec      *Request
	recorded bool
}

func (s *Server) recording(w http.ResponseWriter, rec *Request) *recordingWriter {
	return &recordingWriter{ResponseWriter: w, s: s, rec: rec}
}

func (w *recordingWriter) WriteHeader(status int) {
	if !w.recorded {
		w.recorded = true
		w.rec.Status = status
		w.s.record(*w.rec)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if !w.recorded {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// answered records a request whose handler wrote nothing (net/http then
// answers 200 with no body).
func (w *recordingWriter) answered() {
	if !w.recorded {
		w.WriteHeader(http.StatusOK)
	}
}

func (s *Server) takeFailure(op string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.failures {
		f := &s.failures[i]
		if f.op == op && f.times > 0 {
			f.times--
			return f.code
		}
	}
	return ""
}

const (
	cwService   = "GraniteServiceVersion20100801"
	cwPrefix    = "/service/" + cwService + "/operation/"
	maxBodySize = 1 << 20
)

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodySize))
	if err != nil {
		http.Error(w, "reading the body", http.StatusBadRequest)
		return
	}
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, cwPrefix):
		s.serveCloudWatch(w, r, body, strings.TrimPrefix(r.URL.Path, cwPrefix))
	case r.Method == http.MethodPost && r.URL.Path == "/" &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		s.serveSTS(w, r, body)
	default:
		http.Error(w, "unknown operation", http.StatusNotFound)
	}
}

// authError is a failed signature or credential check.
type authError struct {
	code, msg string
	status    int
}

// authenticate checks the SigV4 signature of r for service and returns the
// signer's identity and the scope's region.
func (s *Server) authenticate(r *http.Request, body []byte, service string) (*Identity, string, *authError) {
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return nil, "", &authError{"MissingAuthenticationToken", "Request is missing Authentication Token", 403}
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return nil, "", &authError{"IncompleteSignature", "Authorization header requires a valid Credential", 400}
	}
	key, date, region, svc := scope[0], scope[1], scope[2], scope[3]
	if svc != service {
		return nil, "", &authError{"SignatureDoesNotMatch",
			fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service), 403}
	}
	s.mu.Lock()
	id := s.identities[key]
	var idc Identity
	if id != nil {
		idc = *id
	}
	s.mu.Unlock()
	if id == nil {
		return nil, "", &authError{"UnrecognizedClient", "The security token included in the request is invalid.", 403}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, date) {
		return nil, "", &authError{"IncompleteSignature", "X-Amz-Date is missing or does not match the credential scope", 400}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	if d := now().Sub(at); d > 15*time.Minute || d < -15*time.Minute {
		return nil, "", &authError{"SignatureDoesNotMatch", "Signature expired: the request time is too far from the server time", 403}
	}
	if idc.SessionToken != "" && r.Header.Get("X-Amz-Security-Token") != idc.SessionToken {
		return nil, "", &authError{"UnrecognizedClient", "The security token included in the request is invalid.", 403}
	}
	if !s.signatureValid(r, body, &idc, fields["SignedHeaders"], fields["Signature"], region, service, at) {
		return nil, "", &authError{"SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided.", 403}
	}
	if idc.Expired {
		return nil, "", &authError{"ExpiredToken", "The security token included in the request is expired", 400}
	}
	return &idc, region, nil
}

// signatureValid signs a copy of r holding only its signed headers with
// the identity's secret and compares the signatures.
func (s *Server) signatureValid(r *http.Request, body []byte, id *Identity, signed, sig, region, service string, at time.Time) bool {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	c, err := http.NewRequestWithContext(context.Background(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return false
	}
	c.Host = r.Host
	c.ContentLength = 0
	for _, h := range strings.Split(signed, ";") {
		switch h {
		case "host":
		case "content-length":
			c.ContentLength = r.ContentLength
		default:
			if vs := r.Header.Values(h); len(vs) > 0 {
				c.Header[http.CanonicalHeaderKey(h)] = vs
			}
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.SecretAccessKey, SessionToken: id.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, c, hex.EncodeToString(sum[:]), service, region, at); err != nil {
		return false
	}
	_, got, _ := strings.Cut(c.Header.Get("Authorization"), "Signature=")
	return got != "" && got == sig
}

func denied(id *Identity, action string) bool {
	for _, d := range id.Deny {
		if d == action || d == "*" {
			return true
		}
	}
	return false
}

// --- CloudWatch: Smithy RPC v2 CBOR ---

// cwErrors maps an AWS error code to its CBOR __type, HTTP status and
// default message. The legacy (awsQuery) code goes in x-amzn-query-error.
var cwErrors = map[string]struct {
	typ    string
	status int
	fault  string
	msg    string
}{
	"Throttling":                 {"com.amazon.coral.availability#ThrottlingException", 400, "Sender", "Rate exceeded"},
	"AccessDenied":               {"com.amazon.coral.service#AccessDeniedException", 400, "Sender", "User is not authorized to perform: cloudwatch:DescribeAlarms"},
	"ExpiredToken":               {"com.amazon.coral.service#ExpiredTokenException", 400, "Sender", "The security token included in the request is expired"},
	"UnrecognizedClient":         {"com.amazon.coral.service#UnrecognizedClientException", 400, "Sender", "The security token included in the request is invalid."},
	"InvalidClientTokenId":       {"com.amazon.coral.service#UnrecognizedClientException", 400, "Sender", "The security token included in the request is invalid."},
	"SignatureDoesNotMatch":      {"com.amazon.coral.service#InvalidSignatureException", 400, "Sender", "The request signature we calculated does not match the signature you provided."},
	"MissingAuthenticationToken": {"com.amazon.coral.service#MissingAuthenticationTokenException", 400, "Sender", "Request is missing Authentication Token"},
	"IncompleteSignature":        {"com.amazon.coral.service#IncompleteSignatureException", 400, "Sender", "The request signature does not conform to AWS standards."},
	"InvalidNextToken":           {"com.amazonaws.cloudwatch#InvalidNextToken", 400, "Sender", "The service returned an invalid NextToken."},
	"InvalidParameterValue":      {"com.amazonaws.cloudwatch#InvalidParameterValueException", 400, "Sender", "The value of an input parameter is bad or out-of-range."},
	"InvalidParameterCombination": {"com.amazonaws.cloudwatch#InvalidParameterCombinationException", 400, "Sender",
		"Parameters that cannot be used together were used together."},
	"InternalFailure":    {"com.amazon.coral.service#InternalFailure", 500, "Receiver", "Internal failure"},
	"ServiceUnavailable": {"com.amazon.coral.service#ServiceUnavailableException", 503, "Receiver", "Service unavailable"},
}

func (s *Server) cwError(w http.ResponseWriter, code, msg string) int {
	e, ok := cwErrors[code]
	if !ok {
		e = cwErrors["InternalFailure"]
	}
	if msg == "" {
		msg = e.msg
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("X-Amzn-Query-Error", code+";"+e.fault)
	w.Header().Set("X-Amzn-RequestId", requestID())
	w.WriteHeader(e.status)
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(e.typ), "message": cbor.String(msg)}))
	return e.status
}

func (s *Server) cwReply(w http.ResponseWriter, v cbor.Map) int {
	b := cbor.Encode(v)
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-Amzn-RequestId", requestID())
	_, _ = w.Write(b)
	return http.StatusOK
}

func (s *Server) serveCloudWatch(hw http.ResponseWriter, r *http.Request, body []byte, op string) {
	rec := Request{Service: "monitoring", Operation: op}
	w := s.recording(hw, &rec)
	defer w.answered()
	if r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		s.cwError(w, "InvalidParameterValue", "missing Smithy-Protocol: rpc-v2-cbor")
		return
	}
	id, region, aerr := s.authenticate(r, body, "monitoring")
	if aerr != nil {
		s.cwError(w, aerr.code, aerr.msg)
		return
	}
	rec.Region, rec.AccessKey = region, id.AccessKeyID
	var in cbor.Map
	if len(body) > 0 {
		v, err := cbor.Decode(body)
		m, ok := v.(cbor.Map)
		if err != nil || !ok {
			s.cwError(w, "InvalidParameterValue", "the request body is not a CBOR map")
			return
		}
		in = m
	}
	if code := s.takeFailure(op); code != "" {
		s.cwError(w, code, "")
		return
	}
	if denied(id, "cloudwatch:"+op) {
		s.cwError(w, "AccessDenied", fmt.Sprintf(
			"User: %s is not authorized to perform: cloudwatch:%s because no identity-based policy allows the cloudwatch:%s action", id.ARN, op, op))
		return
	}
	switch op {
	case "DescribeAlarms":
		rec.StateValue, rec.NextToken = str(in["StateValue"]), str(in["NextToken"])
		s.describeAlarms(w, in, id.Account, region)
	case "ListTagsForResource":
		s.listTags(w, in)
	default:
		s.cwError(w, "InvalidParameterValue", "operation not served by this test server: "+op)
	}
}

func str(v cbor.Value) string {
	if s, ok := v.(cbor.String); ok {
		return string(s)
	}
	return ""
}

func strList(v cbor.Value) []string {
	l, _ := v.(cbor.List)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, str(x))
	}
	return out
}

func (s *Server) describeAlarms(w http.ResponseWriter, in cbor.Map, account, region string) int {
	state := str(in["StateValue"])
	switch state {
	case "", "OK", "ALARM", "INSUFFICIENT_DATA":
	default:
		return s.cwError(w, "InvalidParameterValue", "StateValue must be one of OK, ALARM, INSUFFICIENT_DATA")
	}
	prefix := str(in["AlarmNamePrefix"])
	names := strList(in["AlarmNames"])
	if prefix != "" && len(names) > 0 {
		return s.cwError(w, "InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be used together")
	}
	pageSize := s.DefaultPageSize
	if pageSize <= 0 {
		pageSize = 50
	}
	if v, ok := in["MaxRecords"]; ok {
		n, ok := v.(cbor.Uint)
		if !ok || n < 1 || n > 100 {
			return s.cwError(w, "InvalidParameterValue", "MaxRecords must be between 1 and 100")
		}
		pageSize = int(n)
	}
	types := strList(in["AlarmTypes"])
	wantMetric, wantComposite := len(types) == 0, false // omitted: metric alarms only
	for _, t := range types {
		switch t {
		case "MetricAlarm":
			wantMetric = true
		case "CompositeAlarm":
			wantComposite = true
		default:
			return s.cwError(w, "InvalidParameterValue", "unknown AlarmType")
		}
	}
	nameOK := func(n string) bool {
		if prefix != "" && !strings.HasPrefix(n, prefix) {
			return false
		}
		if len(names) > 0 {
			for _, x := range names {
				if x == n {
					return true
				}
			}
			return false
		}
		return true
	}
	filter := fmt.Sprintf("%s|%s|%v|%v|%v", state, prefix, names, wantMetric, wantComposite)

	// Metric alarms first, then composites, each in name order: one list
	// that the token indexes into.
	type item struct {
		metric    *MetricAlarm
		composite *CompositeAlarm
	}
	var dyn *alarmSet
	if s.Alarms != nil {
		m, c := s.Alarms(account, region)
		dyn = &alarmSet{metric: m, composite: c}
	}
	s.mu.Lock()
	set := s.alarms[account+"/"+region]
	if dyn != nil {
		set = dyn
	}
	var items []item
	if set != nil {
		if wantMetric {
			for i := range set.metric {
				a := set.metric[i]
				if (state == "" || a.StateValue == state) && nameOK(a.AlarmName) {
					items = append(items, item{metric: &a})
				}
			}
		}
		if wantComposite {
			for i := range set.composite {
				a := set.composite[i]
				if (state == "" || a.StateValue == state) && nameOK(a.AlarmName) {
					items = append(items, item{composite: &a})
				}
			}
		}
	}
	s.mu.Unlock()

	start := 0
	if tok := str(in["NextToken"]); tok != "" {
		off, ok := parseToken(tok, filter)
		if !ok || off > len(items) {
			return s.cwError(w, "InvalidNextToken", "")
		}
		start = off
	}
	end := min(start+pageSize, len(items))
	metric, composite := cbor.List{}, cbor.List{}
	for _, it := range items[start:end] {
		if it.metric != nil {
			metric = append(metric, it.metric.cbor())
		} else {
			composite = append(composite, it.composite.cbor())
		}
	}
	out := cbor.Map{"MetricAlarms": metric, "CompositeAlarms": composite}
	if end < len(items) {
		out["NextToken"] = cbor.String(makeToken(end, filter))
	}
	return s.cwReply(w, out)
}

// Tokens are opaque to clients; this one carries the offset and a digest
// of the filter, so a token from another query is refused as CloudWatch
// does.
func makeToken(off int, filter string) string {
	sum := sha256.Sum256([]byte(filter))
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(off) + ":" + hex.EncodeToString(sum[:6])))
}

func parseToken(tok, filter string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	o, digest, ok := strings.Cut(string(b), ":")
	sum := sha256.Sum256([]byte(filter))
	if !ok || digest != hex.EncodeToString(sum[:6]) {
		return 0, false
	}
	n, err := strconv.Atoi(o)
	return n, err == nil && n >= 0
}

func (s *Server) listTags(w http.ResponseWriter, in cbor.Map) int {
	arn := str(in["ResourceARN"])
	if arn == "" {
		return s.cwError(w, "InvalidParameterValue", "ResourceARN is required")
	}
	s.mu.Lock()
	tags := s.tags[arn]
	s.mu.Unlock()
	l := cbor.List{}
	for _, t := range tags {
		l = append(l, cbor.Map{"Key": cbor.String(t.Key), "Value": cbor.String(t.Value)})
	}
	return s.cwReply(w, cbor.Map{"Tags": l})
}

// --- STS: awsQuery (form-encoded request, XML reply) ---

const stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"

var stsErrors = map[string]int{
	"Throttling":                 400,
	"AccessDenied":               403,
	"ExpiredToken":               400,
	"InvalidClientTokenId":       403,
	"UnrecognizedClient":         403,
	"SignatureDoesNotMatch":      403,
	"MissingAuthenticationToken": 403,
	"IncompleteSignature":        400,
	"InternalFailure":            500,
	"ServiceUnavailable":         503,
}

type xmlError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	NS      string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func (s *Server) stsError(w http.ResponseWriter, code, msg string) int {
	status, ok := stsErrors[code]
	if !ok {
		status = 400
	}
	if code == "UnrecognizedClient" {
		code = "InvalidClientTokenId" // STS's name for it
	}
	var e xmlError
	e.NS = stsNS
	e.Error.Type = "Sender"
	if status >= 500 {
		e.Error.Type = "Receiver"
	}
	e.Error.Code, e.Error.Message, e.RequestID = code, msg, requestID()
	return s.xmlReply(w, status, e)
}

func (s *Server) xmlReply(w http.ResponseWriter, status int, v any) int {
	b, err := xml.Marshal(v)
	if err != nil {
		status, b = 500, []byte(err.Error())
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", requestID())
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
	return status
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type getCallerIdentityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	NS      string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	Meta responseMetadata `xml:"ResponseMetadata"`
}

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"AssumeRoleResponse"`
	NS      string   `xml:"xmlns,attr"`
	Result  struct {
		AssumedRoleUser struct {
			Arn           string `xml:"Arn"`
			AssumedRoleID string `xml:"AssumedRoleId"`
		} `xml:"AssumedRoleUser"`
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string `xml:"SecretAccessKey"`
			SessionToken    string `xml:"SessionToken"`
			Expiration      string `xml:"Expiration"`
		} `xml:"Credentials"`
	} `xml:"AssumeRoleResult"`
	Meta responseMetadata `xml:"ResponseMetadata"`
}

func (s *Server) serveSTS(hw http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	op := form.Get("Action")
	rec := Request{Service: "sts", Operation: op}
	w := s.recording(hw, &rec)
	defer w.answered()
	if err != nil || form.Get("Version") != "2011-06-15" {
		s.stsError(w, "InvalidAction", "could not parse the request")
		return
	}
	id, region, aerr := s.authenticate(r, body, "sts")
	if aerr != nil {
		s.stsError(w, aerr.code, aerr.msg)
		return
	}
	rec.Region, rec.AccessKey = region, id.AccessKeyID
	if code := s.takeFailure(op); code != "" {
		s.stsError(w, code, "injected failure")
		return
	}
	switch op {
	case "GetCallerIdentity":
		var out getCallerIdentityResponse
		out.NS = stsNS
		out.Result.Arn, out.Result.UserID, out.Result.Account = id.ARN, id.UserID, id.Account
		out.Meta.RequestID = requestID()
		s.xmlReply(w, 200, out)
	case "AssumeRole":
		s.assumeRole(w, id, form)
	default:
		s.stsError(w, "InvalidAction", "operation not served by this test server: "+op)
	}
}

func (s *Server) assumeRole(w http.ResponseWriter, caller *Identity, form url.Values) int {
	arn := form.Get("RoleArn")
	s.mu.Lock()
	role, ok := s.roles[arn]
	s.mu.Unlock()
	if !ok || denied(caller, "sts:AssumeRole") {
		return s.stsError(w, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, arn))
	}
	if role.ExternalID != "" && form.Get("ExternalId") != role.ExternalID {
		return s.stsError(w, "AccessDenied", fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, arn))
	}
	session := form.Get("RoleSessionName")
	roleName := arn[strings.LastIndex(arn, "/")+1:]
	tmp := Identity{
		AccessKeyID:     "ASIA" + randomID(16),
		SecretAccessKey: randomID(40),
		SessionToken:    "FwoG" + randomID(80),
		Account:         role.Account,
		ARN:             fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", role.Account, roleName, session),
		UserID:          "AROA" + randomID(17) + ":" + session,
		Deny:            caller.Deny,
	}
	s.AddIdentity(tmp)
	var out assumeRoleResponse
	out.NS = stsNS
	out.Result.AssumedRoleUser.Arn, out.Result.AssumedRoleUser.AssumedRoleID = tmp.ARN, tmp.UserID
	out.Result.Credentials.AccessKeyID = tmp.AccessKeyID
	out.Result.Credentials.SecretAccessKey = tmp.SecretAccessKey
	out.Result.Credentials.SessionToken = tmp.SessionToken
	out.Result.Credentials.Expiration = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	out.Meta.RequestID = requestID()
	return s.xmlReply(w, 200, out)
}

func randomID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
