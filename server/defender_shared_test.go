package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store"
)

// TestDefenderScoresAcrossNodes runs two defenders on one database, each
// with its shared score: an address failing on both is banned once their
// scores together reach the threshold, a login forgives on both, and the
// ban's reason names the points scored on the other node.
func TestDefenderScoresAcrossNodes(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	db := openDB(t)
	db.Now = clock.Now
	sharedA := db.SharedCounts(store.ScopeSSHBan, "a:1", DefaultBanWindow, 100)
	sharedB := db.SharedCounts(store.ScopeSSHBan, "b:2", DefaultBanWindow, 100)
	a := testDefender(db, clock, DefenderConfig{Shared: sharedA})
	b := testDefender(db, clock, DefenderConfig{Shared: sharedB})
	sync := func() {
		t.Helper()
		for _, c := range []*store.SharedCounts{sharedA, sharedB} {
			if err := c.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	addr := ip("203.0.113.7")
	for range 3 { // 6 of 10 on node a
		if a.Fail(addr, ScoreRefusedKey, eventKey) {
			t.Fatal("banned below the threshold")
		}
	}
	// A login on node a that had offered a wrong key first forgives it on
	// both nodes: 4 of 10 remain.
	a.Forgive(addr, ScoreRefusedKey)
	sync()
	if got := sharedB.Others("203.0.113.7").N; got != 4 {
		t.Fatalf("node b sees a score of %d on node a, want 4", got)
	}
	for range 2 { // node b's own 4 plus a's 4: 8 of 10
		if b.Fail(addr, ScoreRefusedKey, eventKey) {
			t.Fatal("banned below the threshold (with the other node's score)")
		}
	}
	if a.Fail(ip("198.51.100.1"), ScoreFailedHandshake, eventHandshake) {
		t.Fatal("another address banned")
	}
	if !b.Fail(addr, ScoreRefusedKey, eventKey) { // 10 of 10
		t.Fatal("not banned once both nodes' scores reached the threshold")
	}
	bans := b.Bans()
	if len(bans) != 1 || bans[0].Score != 10 || !strings.Contains(bans[0].Reason, "3 refused keys and 4 points scored on other nodes") {
		t.Errorf("ban %+v", bans)
	}
	// The ban reaches node a through the store; the score is gone from
	// the shared counts, so it does not ban again when the ban ends.
	if err := a.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if !a.Refuse(addr) {
		t.Error("node a does not refuse the address banned on node b")
	}
	sync()
	if got := sharedA.Others("203.0.113.7").N; got != 0 {
		t.Errorf("node a still sees %d points of the banned address on node b", got)
	}
	if got := sharedB.Others("198.51.100.1").N; got != 1 {
		t.Errorf("node b sees %d points of the other address, want 1", got)
	}
	clock.Add(DefaultBanWindow + time.Minute)
	sync()
	if got := sharedB.Others("198.51.100.1").N; got != 0 {
		t.Errorf("a score older than the window is still seen: %d", got)
	}
}
