package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/kirikae/kirikae/agent/action"
)

// track wraps a waiter's Retryable so every "not yet" is reported as progress.
func track[I, O any](inner func(context.Context, I, O, error) (bool, error), report func(O)) func(context.Context, I, O, error) (bool, error) {
	return func(ctx context.Context, in I, out O, err error) (bool, error) {
		retry, rerr := inner(ctx, in, out, err)
		if retry && rerr == nil && err == nil {
			report(out)
		}
		return retry, rerr
	}
}

// apiCode is the AWS error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isCode reports whether err is an AWS API error with one of the codes.
func isCode(err error, codes ...string) bool {
	c := apiCode(err)
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// waitErr turns a waiter's error into one that says what was being waited for; a cancelled
// context stays recognisable with errors.Is.
func waitErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("waiting for %s: %w", what, err)
}

func guard(format string, args ...any) error {
	return fmt.Errorf("%w: %s", action.ErrGuardRail, fmt.Sprintf(format, args...))
}

func checkFailed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", action.ErrCheckFailed, fmt.Sprintf(format, args...))
}

func fqdn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}
