package report

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store"
)

func TestAdminListsAndLiftsSSHBans(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, b := range []store.Ban{
		{Address: "203.0.113.7", Since: testNow.Add(-time.Minute), Until: testNow.Add(14 * time.Minute), Level: 1, Score: 10, Reason: "5 refused keys within 10m"},
		{Address: "2001:db8:1:2::/64", Since: testNow.Add(-time.Hour), Until: testNow.Add(time.Hour), Level: 3, Score: 11, Reason: "11 failed handshakes within 10m"},
		{Address: "198.51.100.1", Since: testNow.Add(-2 * time.Hour), Until: testNow.Add(-time.Hour), Level: 1, Score: 10, Reason: "ended"},
	} {
		if err := e.db.SaveBan(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	var lifted []string
	e.h.cfg.LiftBan = func(ctx context.Context, actor, address string) error {
		lifted = append(lifted, actor+" "+address)
		return e.db.LiftBan(ctx, actor, address)
	}

	for _, who := range []string{"tom", "carol"} {
		c := e.login(who)
		if resp, _ := c.get("/bans"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s GET /bans: %d, want 403", who, resp.StatusCode)
		}
		if resp, _ := c.post("/bans/lift", url.Values{"csrf": {c.csrf}, "address": {"203.0.113.7"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s POST /bans/lift: %d, want 403", who, resp.StatusCode)
		}
		if _, body := c.get("/"); strings.Contains(body, `href="/bans"`) {
			t.Errorf("%s sees the bans page in the navigation", who)
		}
	}

	admin := e.login("alice")
	resp, body := admin.get("/bans")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /bans: %d", resp.StatusCode)
	}
	for _, want := range []string{"203.0.113.7", "2001:db8:1:2::/64", "5 refused keys within 10m", `action="/bans/lift"`, `name="csrf" value="` + admin.csrf, `href="/bans" class="here"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the bans page lacks %q", want)
		}
	}
	if strings.Contains(body, "198.51.100.1") {
		t.Error("an ended ban is listed")
	}
	if resp, _ := admin.post("/bans/lift", url.Values{"address": {"203.0.113.7"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a lift without the CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := admin.post("/bans/lift", url.Values{"csrf": {admin.csrf}, "address": {"203.0.113.7"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("lift: %d, want 303", resp.StatusCode)
	}
	if len(lifted) != 1 || lifted[0] != "web:alice 203.0.113.7" {
		t.Errorf("the running server was told %v, want one lift of 203.0.113.7 by web:alice", lifted)
	}
	if _, body := admin.get("/bans"); strings.Contains(body, "203.0.113.7") || !strings.Contains(body, "2001:db8:1:2::/64") {
		t.Error("the lifted ban is still listed, or the other one is gone")
	}
	if _, body := admin.get("/audit?q=ban"); !strings.Contains(body, "ssh ban 203.0.113.7") || !strings.Contains(body, "web:alice") {
		t.Error("the lift is not in the audit log")
	}
	if resp, _ := admin.post("/bans/lift", url.Values{"csrf": {admin.csrf}, "address": {"203.0.113.7"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("lifting a ban that is gone: %d, want 404", resp.StatusCode)
	}
}
