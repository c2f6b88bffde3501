package report

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/backupreport/backupreport/store"
)

func TestTheFirstRunLinkIsGoneOnceAUserExists(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		add  func(t *testing.T, db *store.DB, h *Handler, tok string)
	}{
		{"an admin added with 'user add'", func(t *testing.T, db *store.DB, _ *Handler, _ string) {
			if _, err := db.AddUser(ctx, "cli", store.User{Username: "root", Role: store.RoleAdmin}, "a long password"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a tech added with 'user add'", func(t *testing.T, db *store.DB, _ *Handler, _ string) {
			if _, err := db.AddUser(ctx, "cli", store.User{Username: "tom", Role: store.RoleTech}, "a long password"); err != nil {
				t.Fatal(err)
			}
		}},
		{"the admin made by the link itself", func(t *testing.T, _ *store.DB, h *Handler, tok string) {
			req := formRequest("/setup/"+tok, url.Values{"csrf": {testLoginToken}, "username": {"root"}, "password": {"a long password"}, "password2": {"a long password"}})
			req.AddCookie(&http.Cookie{Name: loginCookie, Value: testLoginToken})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("the link: status %d, want 303\n%s", rec.Code, rec.Body)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.PasswordCost = bcrypt.MinCost
			tok, err := PrepareFirstRun(ctx, db)
			if err != nil || tok == "" {
				t.Fatalf("PrepareFirstRun = %q, %v", tok, err)
			}
			h, err := New(Config{DB: db, Location: time.UTC, Logger: quietLog})
			if err != nil {
				t.Fatal(err)
			}
			get := func() *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/setup/"+tok, nil))
				return rec
			}
			if rec := get(); rec.Code != http.StatusOK {
				t.Fatalf("the link before any user: status %d, want 200", rec.Code)
			}
			c.add(t, db, h, tok)
			if _, err := db.Setting(ctx, store.SettingSetupToken); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the token's hash is still stored: %v", err)
			}
			rec := get()
			if rec.Code != http.StatusGone || !strings.Contains(rec.Body.String(), "first-run link is gone") {
				t.Errorf("the link once a user exists: status %d, want 410 saying it is gone\n%.400s", rec.Code, rec.Body)
			}
			req := formRequest("/setup/"+tok, url.Values{"csrf": {testLoginToken}, "username": {"mallory"}, "password": {"a long password"}, "password2": {"a long password"}})
			req.AddCookie(&http.Cookie{Name: loginCookie, Value: testLoginToken})
			post := httptest.NewRecorder()
			h.ServeHTTP(post, req)
			if post.Code != http.StatusGone {
				t.Errorf("POST to the link once a user exists: status %d, want 410", post.Code)
			}
			if _, err := db.UserByName(ctx, "mallory"); err == nil {
				t.Error("the gone link still made a user")
			}
		})
	}

	t.Run("a token left by an older build is deleted at start and when the link is used", func(t *testing.T) {
		db, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.PasswordCost = bcrypt.MinCost
		if _, err := db.AddUser(ctx, "cli", store.User{Username: "root", Role: store.RoleAdmin}, "a long password"); err != nil {
			t.Fatal(err)
		}
		const tok = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		leftover := func() {
			if err := db.SetSetting(ctx, store.SettingSetupToken, store.HashSecret(tok)); err != nil {
				t.Fatal(err)
			}
		}
		leftover()
		if got, err := PrepareFirstRun(ctx, db); got != "" || err != nil {
			t.Fatalf("PrepareFirstRun with a user = %q, %v", got, err)
		}
		if _, err := db.Setting(ctx, store.SettingSetupToken); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PrepareFirstRun kept the old token: %v", err)
		}
		leftover()
		h, _ := New(Config{DB: db, Location: time.UTC, Logger: quietLog})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/setup/"+tok, nil))
		if rec.Code != http.StatusGone {
			t.Errorf("status %d, want 410", rec.Code)
		}
		if _, err := db.Setting(ctx, store.SettingSetupToken); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("visiting the link kept the old token: %v", err)
		}
	})
}
