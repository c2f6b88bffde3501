package store

import (
	"context"
	"testing"
	"time"
)

// TestRetiredNightsAreNotMissingAfterReactivation: a server retired for a
// week and then reactivated is missing only from its return on, and so is
// a server whose customer was inactive.
func TestRetiredNightsAreNotMissingAfterReactivation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.UTC)
	s := f.server("exch01", f.at(2026, 11, 1, 9, 0), EveryDay)
	f.upload(s, f.at(2026, 11, 10, 2, 0), 0) // night of Nov 9
	s.Retired = true
	f.db.Now = func() time.Time { return f.at(2026, 11, 10, 9, 0) }
	if err := f.db.UpdateServer(ctx, "t", s); err != nil {
		t.Fatal(err)
	}
	if got := f.check(f.at(2026, 11, 15, 7, 0)); len(got) != 0 {
		t.Errorf("a retired server was recorded missing: %v", nightsOf(got))
	}
	s.Retired = false
	f.db.Now = func() time.Time { return f.at(2026, 11, 16, 15, 0) }
	if err := f.db.UpdateServer(ctx, "t", s); err != nil {
		t.Fatal(err)
	}
	f.db.Now = time.Now
	got := nightsOf(f.check(f.at(2026, 11, 18, 13, 0)))
	want := []string{"exch01 2026-11-16", "exch01 2026-11-17"}
	if !sameStrings(got, want) {
		t.Errorf("after reactivation: missing %v, want only %v", got, want)
	}

	// The same for a customer made inactive and active again.
	c, _ := f.db.CustomerBySlug(ctx, "acme")
	c.Active = false
	if err := f.db.UpdateCustomer(ctx, "t", c); err != nil {
		t.Fatal(err)
	}
	c.Active = true
	f.db.Now = func() time.Time { return f.at(2026, 11, 25, 15, 0) }
	if err := f.db.UpdateCustomer(ctx, "t", c); err != nil {
		t.Fatal(err)
	}
	f.db.Now = time.Now
	got = nightsOf(f.check(f.at(2026, 11, 26, 13, 0)))
	want = []string{"exch01 2026-11-25"}
	if !sameStrings(got, want) {
		t.Errorf("after the customer's return: missing %v, want only %v", got, want)
	}
}
