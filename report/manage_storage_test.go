package report

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/backupreport/backupreport/store"
)

func TestStoragePageIsForAdminsAndShowsEveryCustomer(t *testing.T) {
	e := newEnv(t)
	e.h.cfg.LogQuota, e.h.cfg.RawLogRetentionDays = 1<<30, 400
	for _, who := range []string{"carol", "tom"} {
		if resp, _ := e.login(who).get("/storage"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s GET /storage: %d, want 403", who, resp.StatusCode)
		}
	}
	admin := e.login("alice")
	resp, body := admin.get("/storage")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /storage as admin: %d\n%.500s", resp.StatusCode, body)
	}
	cs, err := e.db.StorageByCustomer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="db-bytes"`, `id="wal-bytes"`, `id="disk-free"`, "400 days", "1.0 GiB", `href="/storage" class="here"`} {
		if !strings.Contains(body, want) {
			t.Errorf("storage page lacks %q", want)
		}
	}
	for _, c := range cs {
		if !strings.Contains(body, `href="/customers/`+url.PathEscape(c.Customer)+`"`) {
			t.Errorf("storage page does not list customer %s", c.Customer)
		}
	}
	if _, body := e.login("tom").get("/"); strings.Contains(body, `href="/storage"`) {
		t.Error("a tech sees the storage link")
	}
}

func TestAdminSetsACustomersOwnLogCap(t *testing.T) {
	e := newEnv(t)
	e.h.cfg.LogQuota = 1 << 30
	ctx := context.Background()
	c, _ := e.db.CustomerBySlug(ctx, "acme")
	tech := e.login("tom")
	if resp, _ := tech.post("/customers/acme/log-quota", url.Values{"csrf": {tech.csrf}, "quota_mib": {"1"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a tech set a cap: %d, want 403", resp.StatusCode)
	}
	if _, body := tech.get("/customers/acme"); !strings.Contains(body, `id="raw-logs"`) || strings.Contains(body, `id="set-quota"`) {
		t.Error("a tech should see the raw log use but not the cap form")
	}
	admin := e.login("alice")
	for _, tt := range []struct {
		name, value string
		status      int
		want        *int64
	}{
		{"a number of MiB sets the customer's own cap", "250", 303, new(int64(250 << 20))},
		{"0 means no cap for this customer", "0", 303, new(int64(0))},
		{"an empty field returns to the default", "", 303, nil},
		{"a negative number is refused", "-1", 400, nil},
		{"a word is refused", "lots", 400, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := admin.post("/customers/acme/log-quota", url.Values{"csrf": {admin.csrf}, "quota_mib": {tt.value}})
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%.300s", resp.StatusCode, tt.status, body)
			}
			got, _ := e.db.CustomerLogQuota(ctx, c.ID)
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("cap = %v, want %v", got, tt.want)
			}
		})
	}
	e.db.SetCustomerLogQuota(ctx, "t", c.ID, new(int64(5<<20)))
	_, body := admin.get("/customers/acme")
	if !strings.Contains(body, "5.0 MiB (this customer's own)") || !strings.Contains(body, `value="5"`) {
		t.Errorf("customer page does not show the own cap of 5 MiB:\n%s", body[strings.Index(body, `id="raw-logs"`):][:600])
	}
}

func TestResultPageSaysWhenItsLogWasPruned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.upload("acme", "EXCH01", "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n", testNow.AddDate(0, 0, -500))
	c := e.login("carol")
	if _, body := c.get("/results/" + itoa(id)); !strings.Contains(body, `id="download"`) {
		t.Fatal("the log should be shown before it is pruned")
	}
	if _, err := e.db.PruneRawLogsBefore(ctx, testNow.AddDate(0, 0, -400), store.PruneOptions{Pause: -1}); err != nil {
		t.Fatal(err)
	}
	resp, body := c.get("/results/" + itoa(id))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="log-pruned"`) || !strings.Contains(body, "older than the retention") ||
		!strings.Contains(body, testNow.Format("2006-01-02 15:04")) || !strings.Contains(body, `id="verdict"`) {
		t.Errorf("result page of a pruned log: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := c.get("/results/" + itoa(id) + "/log"); resp.StatusCode != http.StatusGone || !strings.Contains(body, "removed") {
		t.Errorf("download of a pruned log: %d, want 410 saying it was removed\n%.300s", resp.StatusCode, body)
	}
	var got struct {
		Result struct {
			PrunedAt string `json:"raw_log_pruned_at"`
			Reason   string `json:"raw_log_pruned_reason"`
		} `json:"result"`
		Status string `json:"status"`
	}
	_, js := c.get("/api/v1/results/" + itoa(id))
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if got.Result.PrunedAt == "" || got.Result.Reason != "retention" || got.Status != "FAILED" {
		t.Errorf("API result of a pruned log: %+v", got)
	}
}
