package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store"
)

// nightLog is a synthetic code-23 rsync log failing to open the given paths
// (or a clean run when none).
func nightLog(paths ...string) []byte {
	var b strings.Builder
	b.WriteString("sending incremental file list\n")
	for _, p := range paths {
		fmt.Fprintf(&b, "rsync: send_files failed to open %q: Permission denied (13)\n", p)
	}
	b.WriteString("sent 1,085 bytes  received 61 bytes  727.33 bytes/sec\ntotal size is 1,065,138  speedup is 0.98\n")
	if len(paths) > 0 {
		b.WriteString("rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1207) [sender=3.1.3]\n")
	}
	return []byte(b.String())
}

// TestErrorMemory stores a synthetic history: /a fails three nights, /b
// appears on night 2 and resolves on night 3, night 4 has no report and
// does not break /a's run; night 6 is clean and resolves /a.
func TestErrorMemory(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 23, 0, 0, 0, time.UTC) }
	store1 := func(at time.Time, paths ...string) int64 {
		t.Helper()
		id, err := db.StoreUpload(ctx, uploadOf(t, db, srv.ID, nightLog(paths...), at))
		if err != nil {
			t.Fatal(err)
		}
		return id.ResultID
	}
	r1 := store1(day(1), "/a")
	r2 := store1(day(2), "/a", "/b")
	r3 := store1(day(3), "/a")
	r5 := store1(day(5).Add(time.Hour), "/a")
	r6 := store1(day(6))

	type want struct {
		path, since, memory string
		nights              int
	}
	check := func(id int64, errs []want, resolved []string) {
		t.Helper()
		_, fe, err := db.Result(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var got []want
		for _, f := range fe {
			got = append(got, want{f.Path, string(f.Since), f.Memory, f.Nights})
		}
		if fmt.Sprint(got) != fmt.Sprint(errs) {
			t.Errorf("result %d errors:\n got %v\nwant %v", id, got, errs)
		}
		res, err := db.ResolvedErrors(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var gotRes []string
		for _, f := range res {
			gotRes = append(gotRes, f.Path)
		}
		if fmt.Sprint(gotRes) != fmt.Sprint(resolved) {
			t.Errorf("result %d resolved: got %v want %v", id, gotRes, resolved)
		}
	}
	checkAll := func() {
		t.Helper()
		check(r1, []want{{"/a", "2026-03-01", "new", 1}}, nil)
		check(r2, []want{{"/a", "2026-03-01", "recurring", 2}, {"/b", "2026-03-02", "new", 1}}, nil)
		check(r3, []want{{"/a", "2026-03-01", "recurring", 3}}, []string{"/b"})
		check(r5, []want{{"/a", "2026-03-01", "recurring", 5}}, nil)
		check(r6, nil, []string{"/a"})
	}
	checkAll()
}

// TestFailureReportListsNewErrorsFirst: the e-mails' failure reports list
// a server's failing errors with the new ones before those that have
// failed for nights, whatever the order of the log.
func TestFailureReportListsNewErrorsFirst(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	for d, paths := range [][]string{{"/a"}, {"/a", "/b"}} {
		if _, err := db.StoreUpload(ctx, uploadOf(t, db, srv.ID, nightLog(paths...), time.Date(2026, 3, d+1, 23, 0, 0, 0, time.UTC))); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := db.FailureReport(ctx, store.ReportDaily, time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		for _, fe := range e.Errors {
			got = append(got, fe.Path+" "+fe.Memory)
		}
	}
	if want := []string{"/b new", "/a recurring"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("failure report errors %v, want %v (entries %+v)", got, want, entries)
	}
}
