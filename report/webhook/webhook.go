// Package webhook announces server state changes (ok, warning, failed,
// missing) to configured URLs with a signed JSON POST, retrying with
// backoff.
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
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
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
	Event    string `json:"event"` // state_changed
	Customer string `json:"customer"`
	Server   string `json:"server"`
	From     string `json:"from"` // ok, warning, failed, missing; "new" for a server not seen before
	To       string `json:"to"`
	Code     int    `json:"code"`
	// Warnings are the kinds of the latest result's warnings nobody has
	// acknowledged (state "warning": an ok night with some); [] when none.
	Warnings []string  `json:"warnings"`
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
	HTTP      *http.Client
	UserAgent string
}

// Post makes one attempt to deliver ev to url. It returns nil once the
// receiver answered 2xx; an error Final reports on (a 4xx other than 408
// and 429) is the receiver's last word, others (network errors, 5xx, 408,
// 429) may pass on another attempt. Retrying is the caller's job
// (notify.Retry).
func (c *Client) Post(ctx context.Context, url string, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return finalError{fmt.Errorf("webhook body: %w", err)}
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	retry, err := c.post(ctx, hc, url, ev.Event, body)
	if err != nil && !retry {
		return finalError{err}
	}
	return err
}

// finalError is an error another attempt would not change.
type finalError struct{ err error }

func (e finalError) Error() string { return e.err.Error() }
func (e finalError) Unwrap() error { return e.err }

// Final reports whether err, from Post, is one that another attempt would
// not change. Final(nil) is false.
func Final(err error) bool {
	var f finalError
	return errors.As(err, &f)
}

// post makes one attempt; retry tells whether another may help.
func (c *Client) post(ctx context.Context, hc *http.Client, url, event string, body []byte) (retry bool, err error) {
	// A webhook URL is often a secret itself (Slack, Teams): errors, which
	// end up in logs and the delivery log, name its host only.
	shown := Redact(url)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("webhook %s: %w", shown, withoutURL(err))
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
		return true, fmt.Errorf("webhook %s: %w", shown, withoutURL(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	retry = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
	return retry, fmt.Errorf("webhook %s: HTTP %s", shown, resp.Status)
}

// Redact keeps a URL's scheme and host and hides the rest, which may
// carry a token.
func Redact(u string) string {
	p, err := neturl.Parse(u)
	if err != nil || p.Host == "" {
		return "(webhook URL)"
	}
	if p.Path == "" || p.Path == "/" {
		return p.Scheme + "://" + p.Host + "/"
	}
	return p.Scheme + "://" + p.Host + "/…"
}

// withoutURL drops the URL net/http and net/url put in their errors.
func withoutURL(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
