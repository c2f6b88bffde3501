package report

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store"
)

// TestGuessesSpreadOverTwoNodesWait runs two web nodes on one database,
// each with its shared login counts: password guesses sent to both wait
// once together they reach the limit, a right password on one node
// forgets the pair's failures on both, and before a sync each node counts
// alone.
func TestGuessesSpreadOverTwoNodesWait(t *testing.T) {
	ctx := context.Background()
	sharedOf := func(db *store.DB, node string) SharedLogins {
		return SharedLogins{
			Pairs:     db.SharedCounts(store.ScopeLoginPair, node, time.Hour, 1000),
			Addresses: db.SharedCounts(store.ScopeLoginAddress, node, time.Hour, 1000),
		}
	}
	var sharedA SharedLogins
	a := newThrottleEnv(t, func(c *Config) {
		sharedA = sharedOf(c.DB, "a:1")
		c.SharedLogins = sharedA
	})
	sharedB := sharedOf(a.db, "b:2")
	hb, err := New(Config{DB: a.db, Location: time.UTC, Now: a.clock.now, Logger: quietLog, SharedLogins: sharedB})
	if err != nil {
		t.Fatal(err)
	}
	b := &env{t: t, db: a.db, h: hb, staff: a.staff}
	sync := func(s ...SharedLogins) {
		t.Helper()
		for _, x := range s {
			for _, c := range []*store.SharedCounts{x.Pairs, x.Addresses} {
				if err := c.Sync(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	for range DefaultLoginLimits.PairFailures {
		wantStatus(t, "guess on node a", a.loginFrom(stranger, "alice", "wrong password", nil), http.StatusUnauthorized, 0)
		a.clock.advance(time.Millisecond)
	}
	wantStatus(t, "next guess on node a", a.loginFrom(stranger, "alice", "wrong password", nil), http.StatusTooManyRequests, 1)
	// Before a sync, node b knows nothing of a's failures.
	wantStatus(t, "guess on node b before a sync", b.loginFrom(stranger, "alice", "wrong password", nil), http.StatusUnauthorized, 0)
	sync(sharedA, sharedB)
	wantStatus(t, "guess on node b after a sync", b.loginFrom(stranger, "alice", "wrong password", nil), http.StatusTooManyRequests, 2)
	wantStatus(t, "another user from the stranger's address on node b", b.loginFrom(stranger, "carol", b.staff["carol"], nil), http.StatusSeeOther, 0)

	// The right password on node a (once the wait is over) forgets the
	// pair's failures on both nodes.
	pair := pairKey("alice", "203.0.113.9")
	if o := sharedB.Pairs.Others(pair); o.N != DefaultLoginLimits.PairFailures {
		t.Errorf("node b sees %+v of the pair's failures on node a, want %d", o, DefaultLoginLimits.PairFailures)
	}
	a.clock.advance(3 * time.Second)
	wantStatus(t, "alice's right password on node a", a.loginFrom(stranger, "alice", a.staff["alice"], nil), http.StatusSeeOther, 0)
	sync(sharedB)
	if o := sharedB.Pairs.Others(pair); o.N != 0 {
		t.Errorf("node b still sees %+v of the pair's failures on node a", o)
	}
	wantStatus(t, "a guess on node b after the reset", b.loginFrom(stranger, "alice", "wrong password", nil), http.StatusUnauthorized, 0)
}
