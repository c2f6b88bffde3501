package store

import (
	"context"
	"testing"
	"time"
)

// TestSharedCountsAcrossNodes runs two nodes' counts on one database: each
// sees the other's after a sync, never its own, and a reset on one clears
// the subject for both.
func TestSharedCountsAcrossNodes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	a := db.SharedCounts(ScopeSSHBan, "a:1", 10*time.Minute, 100)
	b := db.SharedCounts(ScopeSSHBan, "b:2", 10*time.Minute, 100)
	other := db.SharedCounts(ScopeLoginAddress, "b:2", 10*time.Minute, 100)

	a.Add("192.0.2.7", 2, now.Add(-time.Minute))
	a.Add("192.0.2.7", 2, now)
	a.Add("192.0.2.8", 1, now)
	a.Add("192.0.2.8", -1, now) // taken back: nothing to write
	b.Add("192.0.2.7", 1, now)
	for _, c := range []*SharedCounts{a, b, other} {
		if err := c.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.Others("192.0.2.7"); got.N != 4 || !got.Last.Equal(now) {
		t.Errorf("b sees %+v of a's 192.0.2.7, want 4 at %v", got, now)
	}
	if got := b.Others("192.0.2.8"); got.N != 0 {
		t.Errorf("b sees %+v of a's 192.0.2.8, which was taken back", got)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.Others("192.0.2.7"); got.N != 1 {
		t.Errorf("a sees %+v for 192.0.2.7, want b's 1 only (never its own)", got)
	}
	if got := other.Others("192.0.2.7"); got.N != 0 {
		t.Errorf("another scope sees %+v", got)
	}

	// A restarted node (another pid) sees what its earlier run counted.
	a2 := db.SharedCounts(ScopeSSHBan, "a:3", 10*time.Minute, 100)
	if err := a2.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a2.Others("192.0.2.7"); got.N != 5 {
		t.Errorf("a restarted sees %+v, want 5", got)
	}

	if err := b.Reset(ctx, "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if got := b.Others("192.0.2.7"); got.N != 0 {
		t.Errorf("after reset b still sees %+v", got)
	}
	if err := a2.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a2.Others("192.0.2.7"); got.N != 0 {
		t.Errorf("after reset on b, a sees %+v", got)
	}

	// Counts older than the window are forgotten, in memory and stored.
	a.Add("198.51.100.1", 3, now)
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	now = now.Add(11 * time.Minute)
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := b.Others("198.51.100.1"); got.N != 0 {
		t.Errorf("b sees %+v older than the window", got)
	}
	var rows int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM limit_counts WHERE scope = ?`, ScopeSSHBan).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d rows older than the window kept", rows)
	}
	if st := b.Stats(); st.Syncs != 2 || st.Failures != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestSharedCountsBounded holds at most max pending subjects and counts
// the ones it drops; a failed sync keeps the counts for the next one.
func TestSharedCountsBounded(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := db.Now()
	c := db.SharedCounts(ScopeLoginPair, "a:1", time.Hour, 2)
	c.Add("x", 1, now)
	c.Add("y", 1, now)
	c.Add("z", 1, now)
	if st := c.Stats(); st.Dropped != 1 {
		t.Errorf("dropped %d, want 1", st.Dropped)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Sync(cctx); err == nil {
		t.Fatal("sync with a cancelled context worked")
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d := db.SharedCounts(ScopeLoginPair, "b:1", time.Hour, 10)
	if err := d.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if d.Others("x").N != 1 || d.Others("y").N != 1 || d.Others("z").N != 0 {
		t.Errorf("after a failed sync and a good one: x %v y %v z %v", d.Others("x"), d.Others("y"), d.Others("z"))
	}
	if st := c.Stats(); st.Failures != 1 || st.Syncs != 2 {
		t.Errorf("stats %+v", st)
	}
}
