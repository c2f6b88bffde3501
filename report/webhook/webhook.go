// Package webhook announces server state changes (ok, failed, missing) to
// configured URLs with a signed JSON POST, retrying with backoff.
//
// The body is signed with HMAC-SHA256 under a shared secret; the signature
// travels in the X-Backupreport-Signature header as "sha256=<hex>", the
// form GitHub uses, so receivers can reuse their verification code.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Headers of a delivery.
const (
	SignatureHeader = "X-Backupreport-Signature" // sha256=<hex of HMAC-SHA256(secret, body)>
	EventHeader     = "X-Backupreport-Event"     // the event name, as in the body
)

// EventStateChanged is the event sent when a server changes state.
const EventStateChanged = "state_changed"

// Event is the JSON body of a delivery.
type Event struct {
	Event    string    `json:"event"` // state_changed
	Customer string    `json:"customer"`
	Server   string    `json:"server"`
	From     string    `json:"from"` // ok, failed, missing; "new" for a server not seen before
	To       string    `json:"to"`
	Code     int       `json:"code"`
	ResultID *int64    `json:"result_id"`
	URL      string    `json:"url"` // the result page, or the server page; empty without --base-url
	At       time.Time `json:"at"`
}

// Sign returns the signature header value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is a valid signature of body under
// secret, comparing in constant time.
func Verify(secret, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}

// Client posts events. The zero value is not usable; set Secret.
type Client struct {
	Secret []byte
	// HTTP sends the requests; nil uses a client with a 10-second timeout.
	HTTP *http.Client
	// Attempts per URL (at least 1), and the wait after the first failure,
	// doubled after each further one up to MaxWait (0: no limit).
	Attempts  int
	FirstWait time.Duration
	MaxWait   time.Duration
	UserAgent string
}

// Post delivers ev to url, retrying on network errors, 5xx and 429
// answers; 4xx answers other than 429 are final. onAttempt (optional)
// hears of every finished attempt, final on the last. It returns nil once
// the receiver answered 2xx.
func (c *Client) Post(ctx context.Context, url string, ev Event, onAttempt func(n int, err error, final bool)) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("webhook body: %w", err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	attempts := max(c.Attempts, 1)
	wait := c.FirstWait
	for n := 1; ; n++ {
		retry, err := c.post(ctx, hc, url, ev.Event, body)
		final := err == nil || !retry || n >= attempts || ctx.Err() != nil
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
			return fmt.Errorf("webhook %s: %w (after %d attempts: %v)", url, ctx.Err(), n, err)
		case <-t.C:
		}
		if wait *= 2; c.MaxWait > 0 && wait > c.MaxWait {
			wait = c.MaxWait
		}
	}
}

// post makes one attempt; retry tells whether another may help.
func (c *Client) post(ctx context.Context, hc *http.Client, url, event string, body []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("webhook %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(c.Secret, body))
	req.Header.Set(EventHeader, event)
	ua := c.UserAgent
	if ua == "" {
		ua = "backupreport-webhook"
	}
	req.Header.Set("User-Agent", ua)
	resp, err := hc.Do(req)
	if err != nil {
		return true, fmt.Errorf("webhook %s: %w", url, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	retry = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
	return retry, fmt.Errorf("webhook %s: HTTP %s", url, resp.Status)
}
