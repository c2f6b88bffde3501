package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPostSignsThePayload(t *testing.T) {
	secret := []byte("s3cret")
	var got Event
	var sigOK bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sigOK = Verify(secret, body, r.Header.Get(SignatureHeader)) && r.Header.Get(EventHeader) == EventStateChanged &&
			r.Header.Get("Content-Type") == "application/json" && r.Method == http.MethodPost
		json.Unmarshal(body, &got)
	}))
	defer srv.Close()
	id := int64(7)
	at := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	ev := Event{Event: EventStateChanged, Customer: "acme", Server: "<b>x</b>", From: "ok", To: "failed", Code: 23, ResultID: &id,
		URL: "https://b.example/results/7", At: at}
	c := &Client{Secret: secret}
	if err := c.Post(context.Background(), srv.URL, ev); err != nil {
		t.Fatal(err)
	}
	if !sigOK {
		t.Error("signature, event header or content type did not verify")
	}
	if got.Customer != "acme" || got.Server != "<b>x</b>" || got.From != "ok" || got.To != "failed" || got.Code != 23 ||
		got.ResultID == nil || *got.ResultID != 7 || !got.At.Equal(at) || got.URL != ev.URL {
		t.Errorf("payload = %+v, want %+v", got, ev)
	}
}

func TestPostErrorsSayWhetherAnotherAttemptMayHelp(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name   string
		status int // 0: nobody listening
		final  bool
	}{
		{"a 502 may pass later", http.StatusBadGateway, false},
		{"a 500 may pass later", http.StatusInternalServerError, false},
		{"a 429 may pass later", http.StatusTooManyRequests, false},
		{"a 408 may pass later", http.StatusRequestTimeout, false},
		{"a 401 is the receiver's final word", http.StatusUnauthorized, true},
		{"a 404 is the receiver's final word", http.StatusNotFound, true},
		{"nobody listening may pass later", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			url := closed.URL + "/hook/SECRET"
			if tt.status != 0 {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					calls.Add(1)
					w.WriteHeader(tt.status)
				}))
				defer srv.Close()
				url = srv.URL + "/hook/SECRET"
			}
			c := &Client{Secret: []byte("k")}
			err := c.Post(context.Background(), url, Event{Event: EventStateChanged})
			if err == nil || Final(err) != tt.final {
				t.Fatalf("err = %v, Final = %v; want an error, Final %v", err, Final(err), tt.final)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("err = %v names the URL's path, which may be a token", err)
			}
			if tt.status != 0 && (!strings.Contains(err.Error(), strconv.Itoa(tt.status)) || calls.Load() != 1) {
				t.Errorf("err = %v after %d calls; want one call and an error naming %d", err, calls.Load(), tt.status)
			}
		})
	}
	if Final(nil) {
		t.Error("Final(nil) = true")
	}
}

func TestVerifyRejectsTamperingAndOtherSecrets(t *testing.T) {
	body := []byte(`{"event":"state_changed"}`)
	sig := Sign([]byte("a"), body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Errorf("signature %q, want sha256=<64 hex>", sig)
	}
	for name, ok := range map[string]bool{
		"the right secret":  Verify([]byte("a"), body, sig),
		"another secret":    !Verify([]byte("b"), body, sig),
		"a changed body":    !Verify([]byte("a"), append(body, ' '), sig),
		"no prefix":         !Verify([]byte("a"), body, strings.TrimPrefix(sig, "sha256=")),
		"a malformed value": !Verify([]byte("a"), body, "sha256=zz"),
	} {
		if !ok {
			t.Errorf("verify with %s went wrong", name)
		}
	}
}

func TestRedactHidesTokens(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T000/B000/XXXXSECRET": "https://hooks.slack.com/…",
		"https://psa.example.com/":                              "https://psa.example.com/",
		"not a url":                                             "(webhook URL)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
