package report

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/backupreport/backupreport/store"
)

// TestAuditSaysWhereAChangeCameFrom: a change made on the web is audited
// with the client's address, the peer's or, behind a trusted proxy, the
// one X-Forwarded-For names; the audit page shows it and filters by it.
// A change from the command line (no request) has none.
func TestAuditSaysWhereAChangeCameFrom(t *testing.T) {
	ctx := context.Background()
	lastQuotaChange := func(t *testing.T, db *store.DB) store.AuditEntry {
		t.Helper()
		es, err := db.Audit(ctx, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Action == "customer.log_quota" {
				return e
			}
		}
		t.Fatal("the change is not in the audit log")
		return store.AuditEntry{}
	}
	setQuota := func(t *testing.T, c *client, forwardedFor string) {
		t.Helper()
		req, _ := http.NewRequest("POST", c.url("/customers/acme/log-quota"), strings.NewReader(url.Values{"csrf": {c.csrf}, "quota_mib": {"250"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if forwardedFor != "" {
			req.Header.Set("X-Forwarded-For", forwardedFor)
		}
		if resp, body := c.do(req); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("set the quota: %d\n%.300s", resp.StatusCode, body)
		}
	}

	t.Run("from the peer; a forwarded address from an untrusted peer is ignored", func(t *testing.T) {
		e := newEnv(t)
		admin := e.login("alice")
		setQuota(t, admin, "203.0.113.9")
		if got := lastQuotaChange(t, e.db); got.RemoteAddr != "127.0.0.1" || got.Actor != "web:alice" {
			t.Errorf("audited by %q from %q, want web:alice from 127.0.0.1", got.Actor, got.RemoteAddr)
		}
		_, body := admin.get("/audit?q=127.0.0.1")
		if !strings.Contains(body, `<td class="small">127.0.0.1</td><td>customer.log_quota</td>`) {
			t.Errorf("the audit page, filtered by the address, lacks the change with its address:\n%s", body)
		}
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		e := newEnvWith(t, func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
		admin := e.login("alice")
		setQuota(t, admin, "203.0.113.9")
		if got := lastQuotaChange(t, e.db); got.RemoteAddr != "203.0.113.9" {
			t.Errorf("audited from %q, want the client behind the proxy, 203.0.113.9", got.RemoteAddr)
		}
	})
	t.Run("the command line has none", func(t *testing.T) {
		e := newEnv(t)
		c, err := e.db.CustomerBySlug(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.SetCustomerLogQuota(ctx, "cli", c.ID, nil); err != nil {
			t.Fatal(err)
		}
		if got := lastQuotaChange(t, e.db); got.RemoteAddr != "" || got.Actor != "cli" {
			t.Errorf("audited by %q from %q, want cli from nowhere", got.Actor, got.RemoteAddr)
		}
	})
}
