package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store"
)

// memLog is a synthetic code-23 log failing to open the given paths.
func memLog(paths ...string) string {
	var b strings.Builder
	b.WriteString("sending incremental file list\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "rsync: send_files failed to open %q: Permission denied (13)\n", p)
	}
	b.WriteString("sent 1,085 bytes  received 61 bytes  727.33 bytes/sec\ntotal size is 1,065,138  speedup is 0.98\n")
	b.WriteString("rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1207) [sender=3.1.3]\n")
	return b.String()
}

// TestResultPageShowsErrorMemory: over two nights /old keeps failing, /new
// appears and /gone is fixed; the page and the API say so.
func TestResultPageShowsErrorMemory(t *testing.T) {
	e := newEnv(t)
	first := testNow.Add(-50 * time.Hour)
	e.upload("acme", "MEM01", memLog("/d/old", "/d/gone"), first)
	id := e.upload("acme", "MEM01", memLog("/d/old", "/d/new"), testNow.Add(-26*time.Hour))
	c := e.login("tom")
	_, body := c.get("/results/" + itoa(id))
	since := string(store.NightOf(first, time.UTC))
	for _, want := range []string{"failing since " + since + " (2 nights)", "<strong>new</strong>", `id="resolved-errors"`, "<code>/d/gone</code>"} {
		if !strings.Contains(body, want) {
			t.Errorf("result page lacks %q", want)
		}
	}
	_, js := c.get("/api/v1/results/" + itoa(id))
	var got struct {
		FileErrors []struct {
			Path, Since, Memory string
			Nights              int
		} `json:"file_errors"`
		Resolved []struct{ Path, Since string } `json:"resolved"`
	}
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatalf("%v: %s", err, js)
	}
	if s := fmt.Sprint(got.FileErrors); s != "[{/d/old "+since+" recurring 2} {/d/new "+string(store.NightOf(testNow.Add(-26*time.Hour), time.UTC))+" new 1}]" {
		t.Errorf("file_errors = %s", s)
	}
	if s := fmt.Sprint(got.Resolved); s != "[{/d/gone "+since+"}]" {
		t.Errorf("resolved = %s", s)
	}
}
