package notify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRetry(t *testing.T) {
	errBusy := errors.New("451 busy")
	errGone := errors.New("401 unauthorized")
	tests := []struct {
		name    string
		b       Backoff
		results []error // what each attempt returns; the last repeats
		calls   int
		finals  string
		wantErr string // "" for success
	}{
		{"success at once is one attempt", Backoff{Attempts: 3, First: time.Millisecond}, []error{nil}, 1, "final", ""},
		{"a failure is tried again until it works", Backoff{Attempts: 4, First: time.Millisecond}, []error{errBusy, errBusy, nil}, 3, "retry,retry,final", ""},
		{"attempts used up say how many", Backoff{Attempts: 3, First: time.Millisecond}, []error{errBusy}, 3, "retry,retry,final", "gave up after 3 attempts: 451 busy"},
		{"a permanent error ends at once", Backoff{Attempts: 5, First: time.Millisecond}, []error{Permanent(errGone)}, 1, "final", "401 unauthorized"},
		{"a permanent error after a retry says how many", Backoff{Attempts: 5, First: time.Millisecond}, []error{errBusy, Permanent(errGone)}, 2, "retry,final", "gave up after 2 attempts: 401 unauthorized"},
		{"zero attempts means one", Backoff{}, []error{errBusy}, 1, "final", "451 busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var finals []string
			err := Retry(context.Background(), tt.b, func(context.Context) error {
				r := tt.results[min(calls, len(tt.results)-1)]
				calls++
				return r
			}, func(n int, err error, final bool) {
				finals = append(finals, map[bool]string{true: "final", false: "retry"}[final])
			})
			if calls != tt.calls || strings.Join(finals, ",") != tt.finals {
				t.Errorf("%d calls, attempts %v; want %d, %s", calls, finals, tt.calls, tt.finals)
			}
			if got := errString(err); got != tt.wantErr {
				t.Errorf("err = %q, want %q", got, tt.wantErr)
			}
			if err != nil && errors.As(err, new(permanent)) {
				t.Errorf("err %v still marked permanent", err)
			}
		})
	}
}

func TestRetryStopsWaitingWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Retry(ctx, Backoff{Attempts: 5, First: time.Hour}, func(context.Context) error {
		calls++
		time.AfterFunc(time.Millisecond, cancel) // during the hour's wait
		return errors.New("451 busy")
	}, nil)
	if calls != 1 || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "after 1 attempts: 451 busy") {
		t.Errorf("%d calls, err %v; want 1 call and context.Canceled", calls, err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
