package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPostSignsThePayloadAndRetriesAfter500s(t *testing.T) {
	secret := []byte("s3cret")
	var calls atomic.Int32
	var got Event
	var sigOK bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if n < 3 {
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		sigOK = Verify(secret, body, r.Header.Get(SignatureHeader)) && r.Header.Get(EventHeader) == EventStateChanged &&
			r.Header.Get("Content-Type") == "application/json" && r.Method == http.MethodPost
		json.Unmarshal(body, &got)
	}))
	defer srv.Close()
	id := int64(7)
	at := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	ev := Event{Event: EventStateChanged, Customer: "acme", Server: "<b>x</b>", From: "ok", To: "failed", Code: 23, ResultID: &id,
		URL: "https://b.example/results/7", At: at}
	c := &Client{Secret: secret, Attempts: 5, FirstWait: time.Millisecond}
	var finals []bool
	if err := c.Post(context.Background(), srv.URL, ev, func(n int, err error, final bool) { finals = append(finals, final) }); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || len(finals) != 3 || finals[1] || !finals[2] {
		t.Errorf("calls = %d, finals = %v; want 3 calls, the last final", calls.Load(), finals)
	}
	if !sigOK {
		t.Error("signature, event header or content type did not verify")
	}
	if got.Customer != "acme" || got.Server != "<b>x</b>" || got.From != "ok" || got.To != "failed" || got.Code != 23 ||
		got.ResultID == nil || *got.ResultID != 7 || !got.At.Equal(at) || got.URL != ev.URL {
		t.Errorf("payload = %+v, want %+v", got, ev)
	}
}

func TestPostGivesUpWithAClearError(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	c := &Client{Secret: []byte("k"), Attempts: 3, FirstWait: time.Millisecond}
	err := c.Post(context.Background(), srv.URL, Event{Event: EventStateChanged}, nil)
	if err == nil || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "gave up after 3 attempts") || calls.Load() != 3 {
		t.Errorf("err = %v after %d calls; want a 502 after 3 attempts", err, calls.Load())
	}
	// A 4xx other than 429 is the receiver's final word: no retry.
	calls.Store(0)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer bad.Close()
	if err := c.Post(context.Background(), bad.URL, Event{}, nil); err == nil || calls.Load() != 1 {
		t.Errorf("401: err %v after %d calls, want one call", err, calls.Load())
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
