package report

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// TestOnboardFormRefusesWithReasons: the form comes back filled in, with
// one sentence, for a private key, a name against the naming rule and a
// key registered elsewhere; a csr may not use it.
func TestOnboardFormRefusesWithReasons(t *testing.T) {
	e := newEnv(t)
	tom := e.login("tom")
	pub, err := os.ReadFile("../keys/testdata/ed25519_openssh.pub")
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := os.ReadFile("../keys/testdata/ed25519_openssh")
	post := func(c *client, customer, server, key string) (*http.Response, string) {
		return c.post("/onboard", url.Values{"csrf": {c.csrf}, "customer": {customer}, "server": {server}, "key": {key}})
	}
	resp, _ := post(tom, "newco", "fs01", string(pub))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/onboard/newco/fs01?done=") {
		t.Fatalf("onboarding: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range []struct {
		name, customer, server, key, want string
	}{
		{"a private key", "newco", "fs02", string(priv), "private key given"},
		{"a server name with a division slash", "newco", "fs\u221502", string(pub), "DIVISION SLASH"},
		{"a key bound to another server", "newco", "fs03", string(pub), "registered already"},
		{"no server", "newco", "", string(pub), "as in the upload path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := post(tom, c.customer, c.server, c.key)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, c.want) || !strings.Contains(body, `value="newco"`) {
				t.Errorf("status %d, want 400 with %q and the form filled in:\n%.3000s", resp.StatusCode, c.want, body)
			}
		})
	}
	carol := e.login("carol")
	if resp, _ := post(carol, "otherco", "fs01", string(pub)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a csr onboarded: status %d, want 403", resp.StatusCode)
	}
	if resp, body := carol.get("/onboard/newco/fs01"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "waiting") {
		t.Errorf("a csr cannot read the onboarding page: status %d", resp.StatusCode)
	}
	if resp, body := carol.get("/onboard/newco/nosuch"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "backupreport onboard newco/nosuch") {
		t.Errorf("unknown server: status %d, want 404 naming the onboard command", resp.StatusCode)
	}
}
