package report

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func TestNightlyReportPutsProblemsFirstAndCounts(t *testing.T) {
	e := newEnv(t)
	c := e.login("carol")
	_, body := c.get("/")
	rows, counts, _, _, err := e.h.nightly(t.Context(), nightlyFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if counts.Total != 12 || counts.Failed == 0 || counts.Missing == 0 || counts.OK == 0 {
		t.Fatalf("demo counts = %+v, want 12 servers with some ok, failed and missing", counts)
	}
	seenOK := false
	for _, r := range rows {
		if r.Status == "ok" {
			seenOK = true
		} else if seenOK {
			t.Errorf("%s/%s (%s) comes after an ok server", r.Customer, r.Server, r.Status)
		}
	}
	for _, want := range []string{
		strconv.Itoa(counts.Failed) + " failed", strconv.Itoa(counts.Missing) + " missing",
		"✖ FAILED", "? MISSING", "✔ OK", `href="/servers/northwind/SBS2011"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("nightly page lacks %q", want)
		}
	}
	t.Run("filtering by status shows only that status", func(t *testing.T) {
		_, body := c.get("/?status=missing")
		if strings.Contains(body, "✖ FAILED</span>") || !strings.Contains(body, "? MISSING</span>") {
			t.Error("status=missing shows failed servers or no missing ones")
		}
	})
	t.Run("filtering by CSR keeps only their customers", func(t *testing.T) {
		rows, _, _, _, _ := e.h.nightly(t.Context(), nightlyFilter{Staff: "erin"})
		for _, r := range rows {
			if r.Customer != "northwind" && r.Customer != "riverside-law" {
				t.Errorf("staff=erin shows %s", r.Customer)
			}
		}
		if len(rows) != 5 {
			t.Errorf("staff=erin: %d rows, want 5", len(rows))
		}
	})
	t.Run("a claim shows who is on it", func(t *testing.T) {
		c.post("/servers/northwind/SBS2011/notes", url.Values{"csrf": {c.csrf}, "kind": {"claim"}, "back": {"/"}})
		_, body := c.get("/?customer=northwind")
		if !strings.Contains(body, "<td>carol</td>") {
			t.Error("the claim by carol is not shown on the nightly report")
		}
	})
}

func TestResultPageExplainsTheCodeAndHighlightsErrors(t *testing.T) {
	e := newEnv(t)
	log, err := os.ReadFile("../testdata/rsync/hand-cygwin-ssh-code23/stats.out")
	if err != nil {
		t.Fatal(err)
	}
	id := e.upload("acme", "EXCH01", string(log), testNow.Add(-time.Hour))
	c := e.login("tom")
	_, body := c.get("/results/" + itoa(id))
	info := parser.LookupCode(23)
	for _, want := range []string{
		info.Meaning, info.Action, "✖ FAILED",
		`<span class="l err" id="L13"><a class="n" href="#L13">13</a>rsync: send_files failed to open &#34;/cygdrive/E/shares/Finance/Company.qbw&#34;`,
		`<span class="l final" id="L`, "/cygdrive/E/shares/Mail/outlook.pst", "vanished (never counts)",
		`href="/results/` + itoa(id) + `/log"`, `action="/exceptions"`,
	} {
		if !strings.Contains(body, escaped(want)) {
			t.Errorf("result page lacks %q", want)
		}
	}
	t.Run("staff edits of the code table win", func(t *testing.T) {
		if err := e.db.SetCodeInfo(t.Context(), "t", parser.CodeInfo{Code: 23, Name: "partial", Meaning: "Some files were skipped.", Action: "Ring the office manager."}); err != nil {
			t.Fatal(err)
		}
		_, body := c.get("/results/" + itoa(id))
		if !strings.Contains(body, "Ring the office manager.") {
			t.Error("the staff-edited action is not shown")
		}
	})
	t.Run("the raw log downloads as text", func(t *testing.T) {
		resp, body := c.get("/results/" + itoa(id) + "/log")
		if resp.StatusCode != 200 || body != string(log) || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("download: %d %q, body equal %v", resp.StatusCode, resp.Header.Get("Content-Disposition"), body == string(log))
		}
	})
	t.Run("a csr sees no exception button", func(t *testing.T) {
		_, body := e.login("carol").get("/results/" + itoa(id))
		if strings.Contains(body, `action="/exceptions"`) {
			t.Error("csr is offered to add exceptions")
		}
	})
	t.Run("an unknown result is 404", func(t *testing.T) {
		for _, p := range []string{"/results/999999", "/results/abc", "/api/v1/results/999999"} {
			if resp, _ := c.get(p); resp.StatusCode != 404 {
				t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
			}
		}
	})
}

// escaped escapes a want string the way html/template escapes text.
func escaped(s string) string { return strings.ReplaceAll(s, "'", "&#39;") }

func TestServerPageHasCalendarTrendsAndPaging(t *testing.T) {
	e := newEnv(t)
	c := e.login("alice")
	_, body := c.get("/servers/acme/EXCH01")
	for _, want := range []string{"<svg", `class="cell failed"`, `class="cell ok"`, "<title>", "Total size", "Bytes sent", "<polyline", "page 1 of 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("server page lacks %q", want)
		}
	}
	if n := strings.Count(body, `<rect class="cell`); n != calendarNights {
		t.Errorf("calendar has %d cells, want %d", n, calendarNights)
	}
	for i := 0; i < 60; i++ {
		e.upload("acme", "EXCH01", "", testNow.Add(-time.Duration(i)*time.Minute))
	}
	_, body = c.get("/servers/acme/EXCH01?page=2")
	if !strings.Contains(body, "page 2 of 2") || !strings.Contains(body, "← newer") {
		t.Error("second page of history not shown")
	}
	if resp, _ := c.get("/servers/acme/NOPE"); resp.StatusCode != 404 {
		t.Errorf("unknown server: %d, want 404", resp.StatusCode)
	}
}

func TestFailureReportsGroupByCustomer(t *testing.T) {
	e := newEnv(t)
	c := e.login("carol")
	_, daily := c.get("/failures/daily")
	_, three := c.get("/failures/three-day")
	for _, want := range []string{"northwind", "SBS2011", parser.LookupCode(-2).Action[:20]} {
		if !strings.Contains(daily, escaped(want)) {
			t.Errorf("daily failure report lacks %q", want)
		}
	}
	if !strings.Contains(three, "SBS2011") { // silent for five nights
		t.Error("three-day report lacks the server that stopped reporting")
	}
	if strings.Contains(three, ">FS01<") {
		t.Error("three-day report lists a healthy server")
	}
}

func TestHistoricalReportCountsAndSorts(t *testing.T) {
	e := newEnv(t)
	c := e.login("carol")
	_, body := c.get("/api/v1/history?from=2026-03-10&to=2026-03-19")
	var got struct {
		Servers []historyRow `json:"servers"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	by := map[string]historyRow{}
	for _, r := range got.Servers {
		by[r.Customer+"/"+r.Server] = r
		if r.OK+r.OKExcepted+r.Failed+r.Missing != r.Expected {
			t.Errorf("%s/%s: %d+%d+%d+%d != %d expected", r.Customer, r.Server, r.OK, r.OKExcepted, r.Failed, r.Missing, r.Expected)
		}
	}
	if r := by["northwind/SBS2011"]; r.Missing < 5 {
		t.Errorf("SBS2011 missing %d nights, want at least 5", r.Missing)
	}
	if r := by["northwind/FILES"]; r.OKExcepted == 0 {
		t.Errorf("FILES has no ok-with-exceptions nights: %+v", r)
	}
	if r := by["sunrise-school/NAS"]; r.Expected != 10 {
		t.Errorf("NAS (added 10 nights ago) expected %d nights, want 10", r.Expected)
	}
	_, page := c.get("/history?from=2026-03-10&to=2026-03-19&sort=missing&dir=desc")
	if i, j := strings.Index(page, "SBS2011"), strings.Index(page, ">FS01<"); i < 0 || j < 0 || i > j {
		t.Error("sorting by missing, descending, does not put SBS2011 before FS01")
	}
	resp, csvBody := c.get("/api/v1/history.csv?from=2026-03-10&to=2026-03-19")
	recs, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || len(recs) != 13 || recs[0][0] != "customer" {
		t.Errorf("history CSV: %v, %d records", err, len(recs))
	}
	if resp, _ := c.get("/history?from=2026-03-19&to=2026-03-01"); resp.StatusCode != 400 {
		t.Errorf("reversed range: %d, want 400", resp.StatusCode)
	}
}

func TestNightlyCSVAndJSONAgree(t *testing.T) {
	e := newEnv(t)
	c := e.login("carol")
	_, js := c.get("/api/v1/status?status=problems")
	_, cs := c.get("/api/v1/status.csv?status=problems")
	var st struct {
		Servers []nightlyRow `json:"servers"`
	}
	json.Unmarshal([]byte(js), &st)
	recs, _ := csv.NewReader(strings.NewReader(cs)).ReadAll()
	if len(st.Servers) == 0 || len(recs) != len(st.Servers)+1 {
		t.Fatalf("JSON has %d servers, CSV %d lines", len(st.Servers), len(recs))
	}
	for i, r := range st.Servers {
		if recs[i+1][1] != r.Server || recs[i+1][2] != string(r.Status) {
			t.Errorf("row %d: CSV %v, JSON %s %s", i, recs[i+1], r.Server, r.Status)
		}
	}
	_, one := c.get("/api/v1/servers/acme/EXCH01/results?limit=3")
	var sr struct {
		Total   int              `json:"total"`
		Results []map[string]any `json:"results"`
	}
	if json.Unmarshal([]byte(one), &sr); len(sr.Results) != 3 || sr.Total < 3 {
		t.Errorf("server results API: %d results of %d", len(sr.Results), sr.Total)
	}
}

func TestHealthzChecksTheDatabase(t *testing.T) {
	e := newEnv(t)
	resp, body := e.anon().get("/healthz")
	if resp.StatusCode != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("healthz: %d %s", resp.StatusCode, body)
	}
	e.db.Close()
	if resp, _ := e.anon().get("/healthz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("healthz with a closed database: %d, want 503", resp.StatusCode)
	}
}
