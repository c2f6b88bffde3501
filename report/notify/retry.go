package notify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Backoff says how often and how patiently a failed delivery (an email, a
// webhook post) is retried.
type Backoff struct {
	Attempts int           // at least 1
	First    time.Duration // wait after the first failure; doubled after each
	Max      time.Duration // longest wait; 0 means no limit
}

// permanent marks an error another attempt would not change.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as final: Retry returns it without another attempt
// (a webhook receiver's 4xx, say). Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// Retry calls try until it succeeds, returns a Permanent error, Attempts
// are used up or ctx ends, waiting between attempts as b says. onAttempt
// (optional) hears of every finished attempt; final is set on the last. It
// returns the last error, saying how many attempts were made when more
// than one was; a Permanent error comes back unwrapped.
func Retry(ctx context.Context, b Backoff, try func(ctx context.Context) error, onAttempt func(n int, err error, final bool)) error {
	if b.Attempts < 1 {
		b.Attempts = 1
	}
	wait := b.First
	for n := 1; ; n++ {
		err := try(ctx)
		var p permanent
		stop := errors.As(err, &p)
		if top, ok := err.(permanent); ok {
			err = top.err
		}
		final := err == nil || stop || n >= b.Attempts || ctx.Err() != nil
		if onAttempt != nil {
			onAttempt(n, err, final)
		}
		if final {
			if err != nil && n > 1 {
				err = fmt.Errorf("gave up after %d attempts: %w", n, err)
			}
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (after %d attempts: %v)", ctx.Err(), n, err)
		case <-t.C:
		}
		if wait *= 2; b.Max > 0 && wait > b.Max {
			wait = b.Max
		}
	}
}
