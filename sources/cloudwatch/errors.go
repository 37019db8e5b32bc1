package cloudwatch

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"sitroom/model"
	"sitroom/sources"
)

// classify turns an SDK error into a *sources.FetchError whose message a
// person can act on. The SDK's own text (operation names, middleware steps,
// nested causes) is kept only in Err; no credential ever appears in Msg,
// since only error codes and AWS's short messages are used.
func (s *Source) classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	profile := s.cfg.Profile
	if profile == "" {
		profile = "default"
	}
	fe := func(kind sources.FetchErrorKind, msg string) *sources.FetchError {
		return &sources.FetchError{Kind: kind, Msg: msg, Err: err}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			if throttled(err) || s.throttledNow.Load() {
				return fe(KindThrottled, "throttled by AWS: still rate-limited when the poll timed out")
			}
			return fe(sources.KindTimeout, "timed out")
		}
		return fe(sources.KindCanceled, "canceled")
	}

	var notExist awsconfig.SharedConfigProfileNotExistError
	if errors.As(err, &notExist) {
		return fe(KindCredentials, "AWS profile "+quote(profile)+" not found in the shared config or credentials file")
	}
	var ssoTok *ssocreds.InvalidTokenError
	if errors.As(err, &ssoTok) {
		return fe(KindCredentials, "AWS SSO session expired or missing: run aws sso login --profile "+profile)
	}
	var quota ratelimit.QuotaExceededError
	if errors.As(err, &quota) {
		if throttled(err) {
			return fe(KindThrottled, "throttled by AWS; this source's retry budget is spent, backing off")
		}
		return fe(sources.KindNetwork, "AWS calls keep failing; this source's retry budget is spent: "+apiText(err))
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		msg := sources.Sanitize(api.ErrorMessage(), 160)
		switch {
		case throttled(err):
			return fe(KindThrottled, "throttled by AWS ("+code+"); backing off")
		case code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation":
			return fe(KindDenied, "access denied: "+orDefault(msg, "the identity lacks the permission"))
		case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired" || code == "TokenRefreshRequired":
			return fe(KindCredentials, "AWS credentials expired (profile "+profile+"): refresh them, e.g. aws sso login --profile "+profile)
		case code == "InvalidClientTokenId" || code == "UnrecognizedClient" || code == "UnrecognizedClientException" ||
			code == "SignatureDoesNotMatch" || code == "InvalidSignatureException" || code == "IncompleteSignature" ||
			code == "MissingAuthenticationToken" || code == "AuthFailure":
			return fe(KindCredentials, "AWS rejected the credentials of profile "+profile+" ("+code+"): check the access key")
		}
		kind := sources.KindAPI
		return fe(kind, "AWS error "+code+": "+msg)
	}
	if isNoCredentials(err) {
		return fe(KindCredentials, "no AWS credentials found for profile "+profile+
			" (environment, shared files, SSO, web identity, container or instance role)")
	}
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return fe(sources.KindDNS, "DNS lookup of "+sources.Sanitize(dns.Name, 80)+" failed")
	case errors.Is(err, syscall.ECONNREFUSED):
		return fe(sources.KindRefused, "connection refused")
	case errors.Is(err, syscall.ECONNRESET):
		return fe(sources.KindNetwork, "connection reset by peer")
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		return fe(sources.KindTLS, "TLS: certificate signed by unknown authority")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fe(sources.KindTimeout, "timed out")
	}
	if errors.Is(err, errTooLarge) {
		return fe(sources.KindTooLarge, "reply larger than "+mib(s.opt.MaxBytes))
	}
	// A reply that is not AWS's: a proxy or load balancer in front of the
	// endpoint answering with its own status or page.
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.HTTPStatusCode() > 0 {
		status := re.HTTPStatusCode()
		text := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		switch {
		case status == http.StatusTooManyRequests:
			return fe(KindThrottled, model.ThrottledPrefix+": "+text)
		case status < 200 || status > 299:
			return fe(sources.KindHTTP, text)
		case isHTML(re.Response.Header.Get("Content-Type")):
			return fe(sources.KindHTML, "HTML page instead of the CloudWatch API (is the endpoint right?)")
		}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fe(sources.KindTruncated, "truncated reply")
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return fe(sources.KindMalformed, "malformed reply from AWS")
	}
	return fe(sources.KindNetwork, "AWS call failed: "+apiText(err))
}

// throttled reports whether err (or what it wraps) is a throttling error
// by the SDK's own list of codes.
func throttled(err error) bool {
	for _, t := range retry.DefaultThrottles {
		if t.IsErrorThrottle(err).Bool() {
			return true
		}
	}
	return false
}

// isNoCredentials recognises the credential chain running dry. The SDK has
// no distinct type for it, so the wording of its providers is matched.
func isNoCredentials(err error) bool {
	s := err.Error()
	for _, w := range []string{"failed to refresh cached credentials", "no EC2 IMDS role found",
		"failed to retrieve credentials", "get credentials:", "anonymous credentials"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// apiText is the innermost cause of err, cut short and sanitized: the
// SDK's outer layers only repeat the operation and middleware step.
func apiText(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	return sources.Sanitize(err.Error(), 160)
}

func isHTML(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	return strings.HasPrefix(ct, "text/html") || strings.HasPrefix(ct, "application/xhtml+xml")
}

func mib(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

func quote(s string) string { return "\"" + sources.Sanitize(s, 64) + "\"" }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
