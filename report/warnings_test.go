package report

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// sizeLog is an ordinary night of a file server with the given total size.
func sizeLog(total int64) string {
	return fmt.Sprintf("sending incremental file list\nDocs/a.docx\nDocs/b.xlsx\n\nsent 52,000 bytes  received 900 bytes  1,000.00 bytes/sec\ntotal size is %d  speedup is 9.00\n", total)
}

// warnedServer gives acme/WARN01 ten ordinary nights, then last night's
// report of a third of the size: a size_drop warning. It returns that
// result's ID.
func warnedServer(t *testing.T, e *env) int64 {
	t.Helper()
	for d := 11; d >= 2; d-- {
		e.upload("acme", "WARN01", sizeLog(300<<30+int64(d)<<20), testNow.Add(-time.Duration(d)*24*time.Hour))
	}
	return e.upload("acme", "WARN01", sizeLog(100<<30), testNow.Add(-5*time.Hour))
}

// A night whose size dropped shows its warning in the nightly report
// (column, count, filter), the result page (what it means, what to do), the
// server page's trend and the API; staff acknowledge it with a note.
func TestWarningsOnTheWeb(t *testing.T) {
	e := newEnv(t)
	id := warnedServer(t, e)
	c := e.login("carol") // a CSR may acknowledge: it is a note, not a setting

	_, body := c.get("/")
	for _, want := range []string{`href="/results/` + itoa(id) + `#warn-size_drop"`, "⚠ size_drop", "with warnings</a>"} {
		if !strings.Contains(body, want) {
			t.Errorf("nightly report lacks %q", want)
		}
	}
	_, open := c.get("/?warnings=open")
	if !strings.Contains(open, ">WARN01<") || strings.Contains(open, ">FS01<") {
		t.Errorf("?warnings=open should list WARN01 only")
	}

	_, page := c.get("/results/" + itoa(id))
	for _, want := range []string{`id="warn-size_drop"`, "backup much smaller", "below this server&#39;s median", "Compare the source folders"} {
		if !strings.Contains(page, want) {
			t.Errorf("result page lacks %q", want)
		}
	}
	wid := firstWarningID(t, c, id)
	ack := "/results/" + itoa(id) + "/warnings/" + itoa(wid) + "/acknowledge"
	if resp, _ := c.post(ack, url.Values{"csrf": {c.csrf}, "note": {"  "}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("acknowledge without a note: %d, want 400", resp.StatusCode)
	}
	if resp, _ := c.post("/results/1/warnings/"+itoa(wid)+"/acknowledge", url.Values{"csrf": {c.csrf}, "note": {"x"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("acknowledge through another result: %d, want 404", resp.StatusCode)
	}
	resp, _ := c.post(ack, url.Values{"csrf": {c.csrf}, "note": {"customer archived 2025 to tape"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/results/"+itoa(id)+"#warn-size_drop" {
		t.Fatalf("acknowledge: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page = c.get("/results/" + itoa(id)); !strings.Contains(page, "Acknowledged by <strong>web:carol</strong>") || !strings.Contains(page, "customer archived 2025 to tape") {
		t.Errorf("result page does not show the acknowledgement")
	}
	if _, open = c.get("/?warnings=open"); strings.Contains(open, ">WARN01<") {
		t.Errorf("an acknowledged warning is still listed as not acknowledged")
	}
	if _, any := c.get("/?warnings=any"); !strings.Contains(any, ">WARN01<") {
		t.Errorf("?warnings=any lost the acknowledged warning")
	}

	_, srv := c.get("/servers/acme/WARN01")
	if !strings.Contains(srv, `class="warn-mark"`) || !strings.Contains(srv, "#warn-size_drop") {
		t.Errorf("server page does not mark the warning on its trend")
	}
	_, audit := e.login("alice").get("/audit")
	if !strings.Contains(audit, "warning.acknowledge") {
		t.Errorf("audit log lacks warning.acknowledge")
	}
}

// firstWarningID reads a result's first warning from the API.
func firstWarningID(t *testing.T, c *client, id int64) int64 {
	t.Helper()
	_, js := c.get("/api/v1/status")
	var got struct {
		Servers []struct {
			Server   string `json:"server"`
			Warnings []struct {
				ID       int64  `json:"id"`
				ResultID int64  `json:"result_id"`
				Kind     string `json:"kind"`
			} `json:"warnings"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatalf("%v: %s", err, js)
	}
	for _, s := range got.Servers {
		if s.Server == "WARN01" && len(s.Warnings) == 1 && s.Warnings[0].Kind == "size_drop" && s.Warnings[0].ResultID == id {
			return s.Warnings[0].ID
		}
	}
	t.Fatalf("/api/v1/status has no size_drop warning for WARN01: %s", js)
	return 0
}

// Staff edit a warning's text on /codes; the result page shows theirs.
func TestWarningTextEdited(t *testing.T) {
	e := newEnv(t)
	id := warnedServer(t, e)
	tom := e.login("tom")
	resp, _ := tom.post("/codes/warnings/size_drop", url.Values{"csrf": {tom.csrf}, "name": {"Backup shrank"},
		"meaning": {"Less data than usual."}, "action": {"Call the customer today."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save text: %d", resp.StatusCode)
	}
	if _, page := tom.get("/results/" + itoa(id)); !strings.Contains(page, "Backup shrank") || !strings.Contains(page, "Call the customer today.") {
		t.Errorf("result page does not show the edited text")
	}
	if resp, _ := tom.post("/codes/warnings/nope", url.Values{"csrf": {tom.csrf}, "name": {"n"}, "meaning": {"m"}, "action": {"a"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown kind: %d, want 404", resp.StatusCode)
	}
	carol := e.login("carol")
	if resp, _ := carol.post("/codes/warnings/size_drop", url.Values{"csrf": {carol.csrf}, "name": {"n"}, "meaning": {"m"}, "action": {"a"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a CSR edits warning texts: %d, want 403", resp.StatusCode)
	}
}
