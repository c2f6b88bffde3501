package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// seedData makes a data folder with customer acme: exch01 failed last
// night, <img src=x onerror=alert(1)> never reported since 20 Nov, ok01 is ok.
func seedData(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.OpenDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Now = func() time.Time { return time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC) }
	db.AddCustomer(ctx, "t", store.Customer{Slug: "acme"})
	servers := map[string]store.Server{}
	for _, n := range []string{"exch01", "<img src=x onerror=alert(1)>", "ok01"} {
		s, err := db.AddServer(ctx, "t", "acme", n, false)
		if err != nil {
			t.Fatal(err)
		}
		servers[n] = s
	}
	up := func(name string, at time.Time, code int) {
		st := parser.StatusOK
		if code != 0 {
			st = parser.StatusFailed
		}
		if _, err := db.SaveUpload(ctx, store.Upload{ServerID: servers[name].ID, ReceivedAt: at, Night: store.NightOf(at, time.UTC),
			Source: store.SourceUpload, Result: &parser.Result{Code: code, Status: st}}); err != nil {
			t.Fatal(err)
		}
	}
	for d := 20; d <= 26; d++ {
		at := time.Date(2026, 11, d, 2, 0, 0, 0, time.UTC)
		up("ok01", at, 0)
		if d == 26 {
			up("exch01", at, 23)
		} else {
			up("exch01", at, 0)
		}
		if d == 20 {
			up("<img src=x onerror=alert(1)>", at, 0)
		}
	}
	return dir
}

func TestCheckCommandRecordsOnceAndSaysSo(t *testing.T) {
	dir := seedData(t)
	args := []string{"check", "--data", dir, "--timezone", "UTC", "--at", "2026-11-26T07:00:00Z"}
	code, out, errOut := runApp(t, "", args...)
	if code != exitOK {
		t.Fatalf("check: exit %d, %s", code, errOut)
	}
	for _, want := range []string{"acme/<img src=x onerror=alert(1)>  night 2026-11-20", "night 2026-11-25", "6 missing night(s) recorded"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runApp(t, "", args...)
	if code != exitOK || !strings.Contains(out, "0 missing night(s) recorded") {
		t.Errorf("second check: exit %d, output %q; want nothing recorded", code, out)
	}
	if code, _, errOut := runApp(t, "", "check", "--data", dir, "--at", "yesterday"); code != exitFailure || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("bad --at: exit %d, %q", code, errOut)
	}
}
