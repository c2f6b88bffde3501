package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBansAreKeptAcrossReopenAndLifted(t *testing.T) {
	ctx := context.Background()
	path := DSNForTest(t)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 20, 8, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	for _, b := range []Ban{
		{Address: "203.0.113.7", Since: now.Add(-time.Minute), Until: now.Add(14 * time.Minute), Level: 1, Score: 10, Reason: "5 refused keys"},
		{Address: "2001:db8:1:2::/64", Since: now.Add(-time.Hour), Until: now.Add(time.Hour), Level: 2, Score: 11, Reason: "r"},
		{Address: "198.51.100.1", Since: now.Add(-2 * time.Hour), Until: now.Add(-time.Hour), Level: 1, Score: 10, Reason: "ended"},
	} {
		if err := db.SaveBan(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// Saving again replaces the row: a repeat offence.
	if err := db.SaveBan(ctx, Ban{Address: "203.0.113.7", Since: now, Until: now.Add(30 * time.Minute), Level: 2, Score: 12, Reason: "again"}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Now = func() time.Time { return now }
	active, err := db.ActiveBans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range active {
		got = append(got, b.Address)
	}
	if strings.Join(got, " ") != "2001:db8:1:2::/64 203.0.113.7" {
		t.Fatalf("active bans after reopen = %v, want the /64 (ending last) then 203.0.113.7", got)
	}
	if b := active[1]; b.Level != 2 || b.Score != 12 || b.Reason != "again" || !b.Until.Equal(now.Add(30*time.Minute)) || !b.Active(now) {
		t.Errorf("replaced ban = %+v, want level 2, score 12, until +30m", b)
	}
	all, err := db.Bans(ctx, now.Add(-24*time.Hour), 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("bans remembered for a day = %d (%v), want 3 with the ended one", len(all), err)
	}
	if one, _ := db.Bans(ctx, now.Add(-24*time.Hour), 1); len(one) != 1 {
		t.Errorf("limit 1 gave %d bans", len(one))
	}

	if err := db.LiftBan(ctx, "web:alice", "203.0.113.7"); err != nil {
		t.Fatal(err)
	}
	if err := db.LiftBan(ctx, "web:alice", "203.0.113.7"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lifting twice: %v, want ErrNotFound", err)
	}
	if active, _ := db.ActiveBans(ctx); len(active) != 1 || active[0].Address != "2001:db8:1:2::/64" {
		t.Errorf("active bans after the lift = %v", active)
	}
	es, err := db.Audit(ctx, 1)
	if err != nil || len(es) != 1 || es[0].Action != "ban.lift" || es[0].Actor != "web:alice" || !strings.Contains(es[0].Before, `"level":2`) {
		t.Errorf("audit after the lift = %+v, %v", es, err)
	}

	if n, err := db.PurgeBans(ctx, now); err != nil || n != 1 {
		t.Errorf("purge of ended bans deleted %d (%v), want 1", n, err)
	}
}
