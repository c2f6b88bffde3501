package report

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// TestParallelGuessesAreLimited sends many wrong passwords at once: no
// more than the free failures of the pair may be checked (the clock
// stands still, so no wait ever ends).
func TestParallelGuessesAreLimited(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.anon()
			_, body := c.get("/login")
			m := csrfRE.FindStringSubmatch(body)
			if m == nil {
				t.Error("no csrf field")
				return
			}
			resp, _ := c.post("/login", url.Values{"csrf": {m[1]}, "username": {"alice"}, "password": {"wrong password"}})
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if free := DefaultLoginLimits.PairFailures; codes[http.StatusUnauthorized] != free || codes[http.StatusTooManyRequests] != 30-free {
		t.Errorf("statuses %v: want %d passwords checked, the rest 429", codes, free)
	}
}

func TestSafeNextKeepsRedirectsOnThisSite(t *testing.T) {
	for in, want := range map[string]string{
		"/servers/acme/exch01?page=2": "/servers/acme/exch01?page=2",
		"/":                           "/",
		"":                            "/",
		"//evil.example":              "/",
		"/\\evil.example":             "/",
		"/\t/evil.example":            "/",
		"/\n/evil.example":            "/",
		"https://evil.example/":       "/",
		"/%09/evil.example":           "/%09/evil.example", // stays a path on this site
		"javascript:alert(1)":         "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
