package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLoginChallenges(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	u, err := db.AddUser(ctx, "test", User{Username: "ana", Role: RoleAdmin}, "a long password 1")
	if err != nil {
		t.Fatal(err)
	}
	tok, dropped, waiting, err := db.PutLoginChallenge(ctx, u.ID, "/nightly", 5*time.Minute, 2)
	if err != nil || dropped != 0 || waiting != 1 {
		t.Fatalf("put: %v dropped %d waiting %d", err, dropped, waiting)
	}
	c, err := db.LoginChallenge(ctx, tok)
	if err != nil || c.UserID != u.ID || c.Username != "ana" || c.Next != "/nightly" || c.Tries != 0 {
		t.Fatalf("get: %+v %v", c, err)
	}
	for want := 1; want <= 2; want++ {
		if n, err := db.FailLoginChallenge(ctx, tok); err != nil || n != want {
			t.Fatalf("fail %d: %d %v", want, n, err)
		}
	}
	if _, err := db.LoginChallenge(ctx, "not a token"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}

	// At the bound the oldest goes.
	now = now.Add(time.Second)
	tok2, _, _, err := db.PutLoginChallenge(ctx, u.ID, "", 5*time.Minute, 2)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	_, dropped, waiting, err = db.PutLoginChallenge(ctx, u.ID, "", 5*time.Minute, 2)
	if err != nil || dropped != 1 || waiting != 2 {
		t.Fatalf("put at the bound: %v dropped %d waiting %d", err, dropped, waiting)
	}
	if _, err := db.LoginChallenge(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Errorf("the oldest was kept: %v", err)
	}
	if n, err := db.FailLoginChallenge(ctx, tok); err != nil || n < 1000 {
		t.Errorf("a wrong code on a dropped challenge counts %d (%v), want every try used", n, err)
	}

	// Expired ones are gone; deleting works and is idempotent.
	now = now.Add(6 * time.Minute)
	if _, err := db.LoginChallenge(ctx, tok2); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired challenge: %v", err)
	}
	if n, err := db.LoginChallengesWaiting(ctx); err != nil || n != 0 {
		t.Errorf("waiting %d %v", n, err)
	}
	if err := db.DeleteLoginChallenge(ctx, tok2); err != nil {
		t.Error(err)
	}
}
