package store

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestAddUserAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	u, err := db.AddUser(ctx, "t", User{Username: "Alice", Role: RoleTech, Email: "a@example.com"}, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || !u.Active {
		t.Fatalf("AddUser returned %+v, want an active user with an ID", u)
	}
	var hash string
	db.db.QueryRow(`SELECT password_hash FROM users WHERE id = ?`, u.ID).Scan(&hash)
	if hash == "" || hash == "correct horse battery" {
		t.Fatalf("stored password_hash %q is not a bcrypt hash", hash)
	}
	if got, err := db.Authenticate(ctx, "alice", "correct horse battery"); err != nil || got.ID != u.ID {
		t.Fatalf("Authenticate(alice, right password) = %+v, %v; want user %d", got, err, u.ID)
	}
	for _, c := range []struct{ name, user, pass string }{
		{"a wrong password is refused", "alice", "wrong password!"},
		{"an unknown user is refused the same way", "bob", "correct horse battery"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := db.Authenticate(ctx, c.user, c.pass); !errors.Is(err, ErrBadLogin) {
				t.Errorf("Authenticate(%q) = %v, want ErrBadLogin", c.user, err)
			}
		})
	}
	if err := db.SetUserActive(ctx, "t", u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "alice", "correct horse battery"); !errors.Is(err, ErrBadLogin) {
		t.Errorf("disabled user logged in: %v", err)
	}
}

func TestAddUserRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.AddUser(ctx, "t", User{Username: "bob", Role: RoleCSR}, "long enough pw"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		u    User
		pass string
	}{
		{"a short password", User{Username: "carol", Role: RoleCSR}, "short"},
		{"an unknown role", User{Username: "carol", Role: "root"}, "long enough pw"},
		{"a duplicate name in other case", User{Username: "BOB", Role: RoleCSR}, "long enough pw"},
		{"an empty name", User{Username: "", Role: RoleCSR}, "long enough pw"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := db.AddUser(ctx, "t", c.u, c.pass); err == nil {
				t.Errorf("AddUser(%+v) succeeded, want an error", c.u)
			}
		})
	}
}

func TestFirstAdminOnlyWhileNoUsers(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.SetSetting(ctx, SettingSetupToken, HashSecret("x"))
	if _, err := db.AddFirstAdmin(ctx, "root", "", "long enough pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Setting(ctx, SettingSetupToken); !errors.Is(err, ErrNotFound) {
		t.Errorf("setup token still stored after first admin: %v", err)
	}
	if _, err := db.AddFirstAdmin(ctx, "second", "", "long enough pw"); !errors.Is(err, ErrConflict) {
		t.Errorf("second first admin: got %v, want ErrConflict", err)
	}
}

func TestSessionsAndTokens(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	u, _ := db.AddUser(ctx, "t", User{Username: "dave", Role: RoleCSR}, "long enough pw")
	tok, s, err := db.CreateSession(ctx, u.ID, 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.SessionByToken(ctx, tok)
	if err != nil || got.User.ID != u.ID || got.CSRF != s.CSRF || s.CSRF == "" {
		t.Fatalf("SessionByToken = %+v, %v; want user %d with csrf %q", got, err, u.ID, s.CSRF)
	}
	if _, err := db.SessionByToken(ctx, tok+"x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("wrong session token: %v, want ErrNotFound", err)
	}
	db.DeleteSession(ctx, tok)
	if _, err := db.SessionByToken(ctx, tok); !errors.Is(err, ErrNotFound) {
		t.Errorf("session after logout: %v, want ErrNotFound", err)
	}

	api, at, err := db.CreateAPIToken(ctx, "t", u.ID, "nagios")
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	db.db.QueryRow(`SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?`, api).Scan(&stored)
	if stored != 0 {
		t.Errorf("the API token is stored in clear")
	}
	if got, err := db.UserByAPIToken(ctx, api); err != nil || got.ID != u.ID {
		t.Fatalf("UserByAPIToken = %+v, %v", got, err)
	}
	if err := db.RevokeAPIToken(ctx, "t", at.ID, u.ID+1); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking another user's token: %v, want ErrNotFound", err)
	}
	if err := db.RevokeAPIToken(ctx, "t", at.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UserByAPIToken(ctx, api); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked token still works: %v", err)
	}
}

// The unknown-user comparison must cost what a real one does: the
// written-out dummy hash is a valid bcrypt hash at the default cost.
func TestDummyHashIsDefaultCost(t *testing.T) {
	cost, err := bcrypt.Cost(dummyHash)
	if err != nil || cost != bcrypt.DefaultCost {
		t.Fatalf("bcrypt.Cost(dummyHash) = %d, %v; want %d", cost, err, bcrypt.DefaultCost)
	}
	if err := bcrypt.CompareHashAndPassword(dummyHash, []byte("backupreport-dummy-password")); err != nil {
		t.Fatalf("dummy hash does not match its password: %v", err)
	}
}
