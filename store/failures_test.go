package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func (f *fixture) user(name, email string, notify bool) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.db.QueryRow(`INSERT INTO users (username, role, email, notify, created_at) VALUES (?, 'tech', ?, ?, ?) RETURNING id`,
		name, email, boolInt(notify), formatTime(time.Now())).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) note(s Server, userID int64, kind string, at time.Time) {
	f.t.Helper()
	if _, err := f.db.db.Exec(`INSERT INTO notes (server_id, user_id, kind, body, created_at) VALUES (?, ?, ?, '', ?)`,
		s.ID, userID, kind, formatTime(at)); err != nil {
		f.t.Fatal(err)
	}
}

func entryNames(es []FailureEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Server+" "+string(e.Status))
	}
	return out
}

func TestFailureReportsDailyThreeDayAndRecovered(t *testing.T) {
	f := newFixture(t, mustLoc(t, "Europe/Berlin"))
	ctx := context.Background()
	created := f.at(2026, 11, 1, 9, 0)
	failing := f.server("failing", created, EveryDay) // fails three nights running
	flaky := f.server("flaky", created, EveryDay)     // failed twice, ok before
	silent := f.server("silent", created, EveryDay)   // stopped reporting
	healed := f.server("healed", created, EveryDay)   // failed, then ok last night
	good := f.server("good", created, EveryDay)
	for d := 20; d <= 26; d++ {
		at := f.at(2026, 11, d, 2, 0) // night d-1
		f.upload(good, at, 0)
		if d <= 23 {
			f.upload(silent, at, 0)
		}
		switch {
		case d >= 24:
			f.upload(failing, at, 23)
		default:
			f.upload(failing, at, 0)
		}
		if d >= 25 {
			f.upload(flaky, at, 12)
		} else {
			f.upload(flaky, at, 0)
		}
		if d == 25 {
			f.upload(healed, at, 30)
		} else {
			f.upload(healed, at, 0)
		}
	}
	now := f.at(2026, 11, 26, 7, 15)
	if got := f.check(now.Add(-15 * time.Minute)); !sameStrings(nightsOf(got), []string{"silent 2026-11-23", "silent 2026-11-24", "silent 2026-11-25"}) {
		t.Fatalf("check recorded %v", nightsOf(got))
	}
	alice := f.user("alice", "alice@example.com", true)
	bob := f.user("bob", "", false)
	f.note(failing, bob, "note", f.at(2026, 11, 20, 10, 0)) // before the streak: ignored
	f.note(failing, alice, "claim", f.at(2026, 11, 25, 8, 0))
	f.note(failing, bob, "note", f.at(2026, 11, 25, 9, 0))
	f.note(flaky, alice, "claim", f.at(2026, 11, 25, 8, 0))
	f.note(flaky, bob, "resolved", f.at(2026, 11, 25, 10, 0))

	daily, err := f.db.FailureReport(ctx, ReportDaily, now, f.loc)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"failing failed", "flaky failed", "silent missing"}; !sameStrings(entryNames(daily), want) {
		t.Errorf("daily = %v, want %v", entryNames(daily), want)
	}
	byName := map[string]FailureEntry{}
	for _, e := range daily {
		byName[e.Server] = e
	}
	if e := byName["failing"]; e.OnIt != "alice" || e.Nights != 3 || e.Code != 23 || e.ResultID == nil {
		t.Errorf("failing = %+v, want alice on it, 3 nights, code 23", e)
	}
	if e := byName["flaky"]; e.OnIt != "bob" || e.Nights != 2 {
		t.Errorf("flaky = %+v, want bob (resolved alice's claim) and 2 nights", e)
	}
	if e := byName["silent"]; e.Code != -2 || e.Nights != 3 || e.ResultID == nil {
		t.Errorf("silent = %+v, want code -2, 3 nights, the recorded missing result", e)
	}

	three, err := f.db.FailureReport(ctx, ReportThreeDay, now, f.loc)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"failing failed", "silent missing"}; !sameStrings(entryNames(three), want) {
		t.Errorf("three-day = %v, want %v", entryNames(three), want)
	}

	rec, err := f.db.Recovered(ctx, now, f.loc)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"healed ok"}; !sameStrings(entryNames(rec), want) || rec[0].Nights != 1 {
		t.Errorf("recovered = %+v, want healed after 1 night", rec)
	}
	if _, err := f.db.FailureReport(ctx, "weekly", now, f.loc); err == nil {
		t.Error("unknown kind: want an error")
	}
}

func TestStateChangesAreAnnouncedOnce(t *testing.T) {
	f := newFixture(t, time.UTC)
	ctx := context.Background()
	s := f.server("s", f.at(2026, 11, 1, 9, 0), EveryDay)
	f.server("never", f.at(2026, 11, 1, 9, 0), EveryDay)
	f.upload(s, f.at(2026, 11, 24, 2, 0), 0)
	if got, err := f.db.TakeStateChanges(ctx, f.at(2026, 11, 24, 3, 0)); err != nil || len(got) != 0 {
		t.Fatalf("first run = %+v, %v; want nothing announced", got, err)
	}
	id := f.upload(s, f.at(2026, 11, 25, 2, 0), 12)
	got, err := f.db.TakeStateChanges(ctx, f.at(2026, 11, 25, 3, 0))
	if err != nil || len(got) != 1 || got[0].From != "ok" || got[0].To != "failed" || got[0].Code != 12 || *got[0].ResultID != id {
		t.Fatalf("after a failure = %+v, %v; want one ok -> failed", got, err)
	}
	if got, _ := f.db.TakeStateChanges(ctx, f.at(2026, 11, 25, 3, 1)); len(got) != 0 {
		t.Errorf("repeat = %+v, want nothing", got)
	}
	// No report for 24 hours: missing, then back to ok.
	if got, _ := f.db.TakeStateChanges(ctx, f.at(2026, 11, 26, 3, 0)); len(got) != 1 || got[0].To != "missing" {
		t.Errorf("after 24 h of silence = %+v, want failed -> missing", got)
	}
	f.upload(s, f.at(2026, 11, 26, 4, 0), 0)
	if got, _ := f.db.TakeStateChanges(ctx, f.at(2026, 11, 26, 4, 1)); len(got) != 1 || got[0].From != "missing" || got[0].To != "ok" {
		t.Errorf("after recovery = %+v, want missing -> ok", got)
	}
}

func TestEmailLogRecordsAttemptsAndOutcome(t *testing.T) {
	f := newFixture(t, time.UTC)
	ctx := context.Background()
	id, err := f.db.StartDelivery(ctx, "daily", []string{"a@example.com", "b@example.com"}, "Daily")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.RecordAttempt(ctx, id, errors.New("550 no such user"), false); err != nil {
		t.Fatal(err)
	}
	if err := f.db.RecordAttempt(ctx, id, nil, false); err != nil {
		t.Fatal(err)
	}
	id2, _ := f.db.StartDelivery(ctx, KindWebhook, []string{"https://hook.example"}, "state_changed")
	f.db.RecordAttempt(ctx, id2, errors.New("HTTP 500"), true)
	log, err := f.db.EmailLog(ctx, 10)
	if err != nil || len(log) != 2 {
		t.Fatalf("EmailLog = %+v, %v", log, err)
	}
	if e := log[1]; e.Attempts != 2 || e.Status != DeliverySent || e.LastError != "" || e.SentAt == nil || len(e.Recipients) != 2 {
		t.Errorf("daily = %+v, want sent after 2 attempts", e)
	}
	if e := log[0]; e.Attempts != 1 || e.Status != DeliveryFailed || e.LastError != "HTTP 500" || e.SentAt != nil {
		t.Errorf("webhook = %+v, want failed with HTTP 500", e)
	}
	if err := f.db.RecordAttempt(ctx, 999, nil, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: got %v, want ErrNotFound", err)
	}
}

func TestReportRecipientsAreOptedInCSRsAndTSRs(t *testing.T) {
	f := newFixture(t, time.UTC)
	ctx := context.Background()
	alice := f.user("alice", "alice@example.com", true)
	bob := f.user("bob", "bob@example.com", false)
	f.db.AddCustomer(ctx, "t", Customer{Slug: "beta", CSRID: &alice, TSRID: &bob})
	c, _ := f.db.CustomerBySlug(ctx, "acme")
	c.TSRID = &alice
	f.db.UpdateCustomer(ctx, "t", c)
	got, err := f.db.ReportRecipients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Email != "alice@example.com" || !sameStrings(got[0].Customers, []string{"acme", "beta"}) {
		t.Errorf("recipients = %+v, want alice for acme and beta", got)
	}
}
