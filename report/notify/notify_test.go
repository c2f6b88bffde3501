package notify

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	return loc
}

// fakeClock drives a scheduler: sleeping moves the clock to the wake-up
// time at once, and ends the run at stop.
type fakeClock struct {
	now, stop time.Time
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	if t.After(c.stop) {
		return context.Canceled
	}
	c.now = t
	return nil
}

type event struct {
	what string
	at   time.Time
}

func runScheduler(t *testing.T, loc *time.Location, from, to time.Time, check func(context.Context, time.Time)) []event {
	t.Helper()
	c := &fakeClock{now: from, stop: to}
	var evs []event
	s := &scheduler{checkAt: Clock{7, 0}, reportAt: Clock{7, 15}, loc: loc, now: c.Now, sleepUntil: c.SleepUntil,
		check: func(ctx context.Context, now time.Time) {
			evs = append(evs, event{"check", now})
			if check != nil {
				check(ctx, now)
			}
		},
		report: func(_ context.Context, now time.Time) { evs = append(evs, event{"report", now}) },
	}
	s.run(context.Background())
	return evs
}

func TestSchedulerRunsAtStartUpThenDailyAcrossDST(t *testing.T) {
	loc := berlin(t)
	from := time.Date(2026, 10, 24, 12, 0, 0, 0, loc)
	evs := runScheduler(t, loc, from, time.Date(2026, 10, 26, 8, 0, 0, 0, loc), nil)
	want := []string{
		"check 2026-10-24 12:00 CEST",
		"check 2026-10-25 07:00 CET", "report 2026-10-25 07:15 CET", // clocks went back at 03:00
		"check 2026-10-26 07:00 CET", "report 2026-10-26 07:15 CET",
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.what+" "+e.at.In(loc).Format("2006-01-02 15:04 MST"))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// 25 hours between the checks around the change.
	if d := evs[1].at.Sub(time.Date(2026, 10, 24, 7, 0, 0, 0, loc)); d != 25*time.Hour {
		t.Errorf("07:00 to 07:00 across the change = %s, want 25h", d)
	}
}

func TestNextAtSpringGapAndStrictlyAfter(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	tests := []struct {
		name string
		now  time.Time
		c    Clock
		want string
	}{
		{"later today", time.Date(2026, 3, 7, 6, 0, 0, 0, ny), Clock{7, 0}, "2026-03-07 07:00 EST"},
		{"exactly now goes to tomorrow", time.Date(2026, 3, 7, 7, 0, 0, 0, ny), Clock{7, 0}, "2026-03-08 07:00 EDT"},
		{"a skipped time moves forward", time.Date(2026, 3, 8, 0, 0, 0, 0, ny), Clock{2, 30}, "2026-03-08 03:30 EDT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextAt(tt.now, tt.c, ny).Format("2006-01-02 15:04 MST"); got != tt.want {
				t.Errorf("nextAt(%s, %v) = %s, want %s", tt.now, tt.c, got, tt.want)
			}
		})
	}
}

// TestSchedulerRestartsNeverDoubleAMissingNight runs the real check under
// the scheduler, stops it and starts it again over the same days.
func TestSchedulerRestartsNeverDoubleAMissingNight(t *testing.T) {
	loc := berlin(t)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	created := time.Date(2026, 10, 19, 9, 0, 0, 0, loc)
	db.Now = func() time.Time { return created }
	db.AddCustomer(ctx, "t", store.Customer{Slug: "acme"})
	daily, _ := db.AddServer(ctx, "t", "acme", "daily", false)
	weekend, _ := db.AddServer(ctx, "t", "acme", "weekend", false)
	weekend.ExpectDays = 1<<time.Saturday | 1<<time.Sunday
	db.UpdateServer(ctx, "t", weekend)
	old, _ := db.AddServer(ctx, "t", "acme", "old", false)
	old.Retired = true
	db.UpdateServer(ctx, "t", old)
	db.Now = time.Now
	for _, s := range []store.Server{daily, weekend, old} {
		at := time.Date(2026, 10, 20, 2, 0, 0, 0, loc) // night of Monday 19 Oct
		if _, err := db.SaveUpload(ctx, store.Upload{ServerID: s.ID, ReceivedAt: at, Night: store.NightOf(at, loc), Source: store.SourceUpload,
			Result: &parser.Result{Code: 0, Status: parser.StatusOK}}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(ctx context.Context, now time.Time) {
		if _, err := db.RecordMissing(ctx, now, loc); err != nil {
			t.Error(err)
		}
	}
	runScheduler(t, loc, time.Date(2026, 10, 23, 12, 0, 0, 0, loc), time.Date(2026, 10, 25, 10, 0, 0, 0, loc), check)
	// Restart: a start-up check at 06:59 on Monday, then the 07:00 one.
	runScheduler(t, loc, time.Date(2026, 10, 24, 6, 59, 0, 0, loc), time.Date(2026, 10, 27, 8, 0, 0, 0, loc), check)
	runScheduler(t, loc, time.Date(2026, 10, 27, 7, 0, 0, 0, loc), time.Date(2026, 10, 27, 8, 0, 0, 0, loc), check)
	nights := func(s store.Server) []string {
		rows, _ := db.History(ctx, s.ID, 100, 0)
		var out []string
		for _, r := range rows {
			if r.Source == store.SourceMissing {
				out = append([]string{r.Night.String()}, out...)
			}
		}
		return out
	}
	if got, want := strings.Join(nights(daily), ","), "2026-10-20,2026-10-21,2026-10-22,2026-10-23,2026-10-24,2026-10-25,2026-10-26"; got != want {
		t.Errorf("daily server's missing nights = %s, want %s", got, want)
	}
	if got, want := strings.Join(nights(weekend), ","), "2026-10-24,2026-10-25"; got != want {
		t.Errorf("weekend server's missing nights = %s, want %s (Saturday and Sunday only)", got, want)
	}
	if got := nights(old); len(got) != 0 {
		t.Errorf("retired server's missing nights = %v, want none", got)
	}
}

func TestSchedulerRunsTheStorageJobAtStartUpAndHourly(t *testing.T) {
	from := time.Date(2026, 3, 20, 9, 30, 0, 0, time.UTC)
	c := &fakeClock{now: from, stop: from.Add(3*time.Hour + time.Minute)}
	var runs []string
	s := &scheduler{checkAt: Clock{7, 0}, reportAt: Clock{7, 15}, loc: time.UTC, now: c.Now, sleepUntil: c.SleepUntil,
		check:    func(context.Context, time.Time) {},
		maintain: func(_ context.Context, now time.Time) { runs = append(runs, now.Format("15:04")) }, maintainEvery: time.Hour}
	s.run(context.Background())
	if got, want := strings.Join(runs, " "), "09:30 10:30 11:30 12:30"; got != want {
		t.Errorf("storage job ran at %s, want %s", got, want)
	}
}

// A scheduler that starts within an hour after the report time (a node
// taking over from one that died just before it) sends the report; one
// that starts later leaves it to "report send".
func TestSchedulerCatchesUpAReportJustMissed(t *testing.T) {
	loc := berlin(t)
	for _, c := range []struct {
		start string
		want  string
	}{
		{"07:40", "check 2026-11-24 07:40 CET\nreport 2026-11-24 07:40 CET\ncheck 2026-11-25 07:00 CET\nreport 2026-11-25 07:15 CET"},
		{"08:30", "check 2026-11-24 08:30 CET\ncheck 2026-11-25 07:00 CET\nreport 2026-11-25 07:15 CET"},
	} {
		h, m := 0, 0
		fmt.Sscanf(c.start, "%d:%d", &h, &m)
		evs := runScheduler(t, loc, time.Date(2026, 11, 24, h, m, 0, 0, loc), time.Date(2026, 11, 25, 8, 0, 0, 0, loc), nil)
		var got []string
		for _, e := range evs {
			got = append(got, e.what+" "+e.at.In(loc).Format("2006-01-02 15:04 MST"))
		}
		if strings.Join(got, "\n") != c.want {
			t.Errorf("started at %s:\n%s\nwant:\n%s", c.start, strings.Join(got, "\n"), c.want)
		}
	}
}
