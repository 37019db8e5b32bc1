package cloudwatch

import (
	"context"
	"errors"
	"io"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// DefaultMaxBytes caps one reply's body when Options.MaxBytes is not set.
// A DescribeAlarms page holds at most 100 alarms, a few hundred KiB.
const DefaultMaxBytes int64 = 16 << 20

// errTooLarge is what reading a reply past the cap returns.
var errTooLarge = errors.New("reply too large")

// capReplies adds a deserialize-step middleware that cuts every reply body
// at max bytes before the SDK reads it, so a misbehaving endpoint (or a
// proxy in front of it) cannot make a poll read without end.
func capReplies(max int64) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("sitroomCapReply",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
				middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.Body != nil {
					resp.Body = &capBody{rc: resp.Body, left: max}
				}
				return out, md, err
			}), middleware.After)
	}
}

type capBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *capBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, err := b.rc.Read(one[:]); n > 0 {
			return 0, errTooLarge
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *capBody) Close() error { return b.rc.Close() }
