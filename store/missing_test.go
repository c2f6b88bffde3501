package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s: %v", name, err)
	}
	return loc
}

// fixture is a database with one customer "acme" whose servers are created
// at a chosen time.
type fixture struct {
	t   *testing.T
	db  *DB
	loc *time.Location
}

func newFixture(t *testing.T, loc *time.Location) *fixture {
	t.Helper()
	db := openTest(t)
	if _, err := db.AddCustomer(context.Background(), "t", Customer{Slug: "acme"}); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, db: db, loc: loc}
}

// at is a local time in the fixture's zone.
func (f *fixture) at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, f.loc)
}

func (f *fixture) server(name string, created time.Time, days int) Server {
	f.t.Helper()
	f.db.Now = func() time.Time { return created }
	defer func() { f.db.Now = time.Now }()
	s, err := f.db.AddServer(context.Background(), "t", "acme", name, false)
	if err != nil {
		f.t.Fatal(err)
	}
	if days != EveryDay {
		s.ExpectDays = days
		if err := f.db.UpdateServer(context.Background(), "t", s); err != nil {
			f.t.Fatal(err)
		}
	}
	return s
}

func (f *fixture) upload(s Server, at time.Time, code int) int64 {
	f.t.Helper()
	st := parser.StatusOK
	if code != 0 && code != 24 {
		st = parser.StatusFailed
	}
	id, err := f.db.SaveUpload(context.Background(), Upload{ServerID: s.ID, ReceivedAt: at, Night: NightOf(at, f.loc), Source: SourceUpload,
		Result: &parser.Result{Code: code, Status: st}})
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) check(now time.Time) []MissingNight {
	f.t.Helper()
	got, err := f.db.RecordMissing(context.Background(), now, f.loc)
	if err != nil {
		f.t.Fatalf("RecordMissing(%s): %v", now, err)
	}
	return got
}

func nightsOf(ms []MissingNight) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Server+" "+m.Night.String())
	}
	return out
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (f *fixture) missingRows(s Server) []ResultRow {
	f.t.Helper()
	rows, err := f.db.History(context.Background(), s.ID, 1000, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []ResultRow
	for _, r := range rows {
		if r.Source == SourceMissing {
			out = append(out, r)
		}
	}
	return out
}

func TestMissingNightsAcrossTheAutumnDSTChangeInBerlin(t *testing.T) {
	f := newFixture(t, mustLoc(t, "Europe/Berlin"))
	s := f.server("exch01", f.at(2026, 10, 1, 9, 0), EveryDay)
	// Reports for the nights of 20, 21 and 22 October arrive at 02:00.
	for d := 21; d <= 23; d++ {
		f.upload(s, f.at(2026, 10, d, 2, 0), 0)
	}
	// Clocks go back at 03:00 on 25 October; nights 23, 24 and 25 send nothing.
	if got := f.check(f.at(2026, 10, 26, 1, 30)); !sameStrings(nightsOf(got), []string{"exch01 2026-10-23", "exch01 2026-10-24"}) {
		t.Errorf("check at 01:30 on 26 Oct recorded %v, want nights 23 and 24 (night 25 is due at 02:00)", nightsOf(got))
	}
	got := f.check(f.at(2026, 10, 26, 7, 0))
	if !sameStrings(nightsOf(got), []string{"exch01 2026-10-25"}) {
		t.Fatalf("check at 07:00 on 26 Oct recorded %v, want night 25 only", nightsOf(got))
	}
	// 02:00 CET on 26 October is 01:00 UTC; the day before, 02:00 was still CEST (00:00 UTC).
	if want := time.Date(2026, 10, 26, 1, 0, 0, 0, time.UTC); !got[0].Deadline.Equal(want) {
		t.Errorf("night 25 deadline = %s, want %s", got[0].Deadline, want)
	}
	if again := f.check(f.at(2026, 10, 26, 7, 0)); len(again) != 0 {
		t.Errorf("second check at the same time recorded %v, want nothing", nightsOf(again))
	}
	rows := f.missingRows(s)
	if len(rows) != 3 {
		t.Fatalf("missing results = %d, want 3", len(rows))
	}
	for _, r := range rows {
		if r.Status != StatusMissing || r.Code != -2 || r.Reason != "no report received" {
			t.Errorf("missing result %+v, want status missing, code -2, reason \"no report received\"", r)
		}
	}
}

func TestMissingNightsAcrossTheSpringDSTChangeInNewYork(t *testing.T) {
	f := newFixture(t, mustLoc(t, "America/New_York"))
	// Never uploaded: each night is due when its window closes, at noon.
	never := f.server("never", f.at(2026, 3, 5, 15, 0), EveryDay)
	// Uploads at 02:30, an hour that does not exist on 8 March.
	early := f.server("early", f.at(2026, 3, 1, 9, 0), EveryDay)
	f.upload(early, f.at(2026, 3, 6, 2, 30), 0) // night of 5 March
	got := f.check(f.at(2026, 3, 8, 3, 15))
	// early: night 6 due 7 Mar 02:30; night 7 due 8 Mar 02:30, which is 03:30 EDT.
	want := []string{"early 2026-03-06", "never 2026-03-05", "never 2026-03-06"}
	if !sameStrings(nightsOf(got), want) {
		t.Errorf("check at 03:15 EDT on 8 Mar recorded %v, want %v", nightsOf(got), want)
	}
	got = f.check(f.at(2026, 3, 9, 13, 0))
	want = []string{"early 2026-03-07", "early 2026-03-08", "never 2026-03-07", "never 2026-03-08"}
	if !sameStrings(nightsOf(got), want) {
		t.Errorf("check at 13:00 on 9 Mar recorded %v, want %v", nightsOf(got), want)
	}
	for _, m := range got {
		if m.Server == "never" && m.Night == "2026-03-07" {
			if w := time.Date(2026, 3, 8, 16, 0, 0, 0, time.UTC); !m.Deadline.Equal(w) {
				t.Errorf("never's night 7 deadline = %s, want noon EDT %s", m.Deadline, w)
			}
		}
	}
	_ = never
}

func TestMissingRespectsWeekdaysRetirementAndInactiveCustomers(t *testing.T) {
	f := newFixture(t, time.UTC)
	ctx := context.Background()
	weekdays := 1<<time.Monday | 1<<time.Tuesday | 1<<time.Wednesday | 1<<time.Thursday | 1<<time.Friday
	office := f.server("office", f.at(2026, 11, 1, 9, 0), weekdays)
	retired := f.server("old", f.at(2026, 11, 1, 9, 0), EveryDay)
	retired.Retired = true
	if err := f.db.UpdateServer(ctx, "t", retired); err != nil {
		t.Fatal(err)
	}
	f.db.AddCustomer(ctx, "t", Customer{Slug: "gone"})
	f.db.Now = func() time.Time { return f.at(2026, 11, 1, 9, 0) }
	gone, _ := f.db.AddServer(ctx, "t", "gone", "srv", false)
	f.db.Now = time.Now
	c, _ := f.db.CustomerBySlug(ctx, "gone")
	c.Active = false
	if err := f.db.UpdateCustomer(ctx, "t", c); err != nil {
		t.Fatal(err)
	}
	_ = gone
	// Friday 20 November's report arrives on Saturday at 01:00.
	f.upload(office, f.at(2026, 11, 21, 1, 0), 0)
	if got := f.check(f.at(2026, 11, 23, 7, 0)); len(got) != 0 {
		t.Errorf("Monday morning check recorded %v, want nothing: Saturday and Sunday are not expected", nightsOf(got))
	}
	if got := f.check(f.at(2026, 11, 24, 7, 0)); !sameStrings(nightsOf(got), []string{"office 2026-11-23"}) {
		t.Errorf("Tuesday morning check recorded %v, want Monday's night", nightsOf(got))
	}
	if rows := f.missingRows(retired); len(rows) != 0 {
		t.Errorf("retired server got %d missing results", len(rows))
	}
}

func TestMissingIsCappedToTheLookback(t *testing.T) {
	f := newFixture(t, time.UTC)
	f.server("s", f.at(2026, 9, 1, 9, 0), EveryDay)
	got := f.check(f.at(2026, 11, 26, 7, 0))
	// Night(now) is 25 Nov (not yet due); 7 nights back is 18 Nov.
	if len(got) != 7 || got[0].Night != "2026-11-18" || got[6].Night != "2026-11-24" {
		t.Errorf("first check recorded %v, want the 7 nights 18..24 Nov", nightsOf(got))
	}
	more, err := f.db.RecordMissingSince(context.Background(), f.at(2026, 11, 26, 7, 0), f.loc, 10)
	if err != nil || !sameStrings(nightsOf(more), []string{"s 2026-11-15", "s 2026-11-16", "s 2026-11-17"}) {
		t.Errorf("lookback 10 recorded %v, %v; want 15..17 Nov", nightsOf(more), err)
	}
}

func TestALateReportIsNeverAlsoMissingAndWinsTheStatus(t *testing.T) {
	f := newFixture(t, time.UTC)
	ctx := context.Background()
	s := f.server("s", f.at(2026, 11, 1, 9, 0), EveryDay)
	f.upload(s, f.at(2026, 11, 24, 2, 0), 0) // night 23
	if got := f.check(f.at(2026, 11, 25, 7, 0)); !sameStrings(nightsOf(got), []string{"s 2026-11-24"}) {
		t.Fatalf("check recorded %v, want night 24", nightsOf(got))
	}
	f.upload(s, f.at(2026, 11, 25, 9, 0), 0) // night 24's report, late
	rows, _ := f.db.Status(ctx, f.at(2026, 11, 25, 9, 5), 24*time.Hour)
	if rows[0].Status != "ok" {
		t.Errorf("status after the late report = %s, want ok", rows[0].Status)
	}
	// A catch-up run as of an earlier time skips nights that have an upload.
	f2 := newFixture(t, time.UTC)
	s2 := f2.server("s", f2.at(2026, 11, 1, 9, 0), EveryDay)
	f2.upload(s2, f2.at(2026, 11, 24, 2, 0), 0)
	f2.upload(s2, f2.at(2026, 11, 25, 9, 0), 0)
	if got := f2.check(f2.at(2026, 11, 25, 7, 0)); len(got) != 0 {
		t.Errorf("check as of before a late report recorded %v, want nothing", nightsOf(got))
	}
}

func TestConcurrentAndRepeatedChecksNeverDoubleANight(t *testing.T) {
	f := newFixture(t, mustLoc(t, "Europe/Berlin"))
	var servers []Server
	for _, n := range []string{"a", "b", "c"} {
		servers = append(servers, f.server(n, f.at(2026, 11, 1, 9, 0), EveryDay))
	}
	start := f.at(2026, 11, 26, 6, 58) // start-up, then the 07:00 check
	var wg sync.WaitGroup
	total := make(chan int, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got, err := f.db.RecordMissing(context.Background(), start.Add(time.Duration(i%2)*2*time.Minute), f.loc)
			if err != nil {
				t.Error(err)
			}
			total <- len(got)
		}(i)
	}
	wg.Wait()
	close(total)
	n := 0
	for k := range total {
		n += k
	}
	if n != 21 {
		t.Errorf("checks reported %d recorded nights in all, want 21 (7 nights x 3 servers)", n)
	}
	for _, s := range servers {
		if rows := f.missingRows(s); len(rows) != 7 {
			t.Errorf("server %s has %d missing results, want 7", s.Name, len(rows))
		}
	}
}
