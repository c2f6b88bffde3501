package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// TestEveryQueryRunsOnThisDatabase calls the store methods that the other
// tests of this package leave to the packages above (server, report,
// cmd), which test them on SQLite only: each must run on the database
// the tests use (BACKUPREPORT_TEST_DATABASE), with the same answers.
func TestEveryQueryRunsOnThisDatabase(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}

	u, err := db.AddUser(ctx, "t", store.User{Username: "Alice", Role: store.RoleTech, Email: "a@example.com", Notify: true}, "correct horse battery")
	check("AddUser", err)
	got, err := db.UserByName(ctx, "alice")
	check("UserByName", err)
	if got.ID != u.ID || !got.Notify || !got.Active {
		t.Errorf("UserByName = %+v, want %+v", got, u)
	}
	u.Email, u.Notify = "alice@example.com", false
	check("UpdateUser", db.UpdateUser(ctx, "t", u))
	got, err = db.UserByID(ctx, u.ID)
	check("UserByID", err)
	if got.Email != "alice@example.com" || got.Notify {
		t.Errorf("UserByID after UpdateUser = %+v", got)
	}
	check("SetPassword", db.SetPassword(ctx, "t", u.ID, "another long password"))
	us, err := db.Users(ctx)
	check("Users", err)
	n, err := db.CountUsers(ctx)
	check("CountUsers", err)
	if len(us) != 1 || n != 1 {
		t.Errorf("Users %d, CountUsers %d, want 1", len(us), n)
	}
	_, err = db.TOTPUsers(ctx)
	check("TOTPUsers", err)
	check("SetRequireTOTP", db.SetRequireTOTP(ctx, "t", true))
	on, err := db.RequireTOTP(ctx)
	check("RequireTOTP", err)
	if !on {
		t.Error("RequireTOTP = false after SetRequireTOTP(true)")
	}
	check("SetSetting", db.SetSetting(ctx, "x", "1"))
	check("DeleteSetting", db.DeleteSetting(ctx, "x"))
	if _, err := db.Setting(ctx, "x"); err == nil {
		t.Error("setting x still there after DeleteSetting")
	}

	_, tok, err := db.CreateAPIToken(ctx, "t", u.ID, "ci")
	check("CreateAPIToken", err)
	toks, err := db.APITokens(ctx, u.ID)
	check("APITokens", err)
	if len(toks) != 1 || toks[0].ID != tok.ID {
		t.Errorf("APITokens = %+v, want the one made", toks)
	}

	if _, err := db.AddNote(ctx, u.ID, srv.ID, "note", "looked at it"); err != nil {
		t.Fatal(err)
	}
	notes, err := db.Notes(ctx, srv.ID, 10)
	check("Notes", err)
	if len(notes) != 1 || notes[0].Body != "looked at it" {
		t.Errorf("Notes = %+v", notes)
	}

	ex, err := db.AddException(ctx, "t", "acme", "*.pst", "")
	check("AddException", err)
	exs, err := db.ExceptionsForNewServer(ctx, srv.CustomerID)
	check("ExceptionsForNewServer", err)
	if len(exs) != 1 || exs[0].ID != ex.ID {
		t.Errorf("ExceptionsForNewServer = %+v, want the customer's exception", exs)
	}
	_, err = db.StaleExceptions(ctx, reevalNow.Add(time.Hour))
	check("StaleExceptions", err)
	_, err = db.NoLongerFailing(ctx, reevalNow.Add(-30*24*time.Hour), 10)
	check("NoLongerFailing", err)

	id, err := db.SaveUpload(ctx, uploadOf(t, db, srv.ID, readCase(t, "hand-cygwin-ssh-code23"), reevalNow.Add(-time.Hour)))
	check("SaveUpload", err)
	rs, err := db.ResultsBetween(ctx, srv.ID, reevalNow.Add(-2*time.Hour), reevalNow)
	check("ResultsBetween", err)
	if len(rs) != 1 || rs[0].ID != id {
		t.Errorf("ResultsBetween = %d results, want the upload %d", len(rs), id)
	}
	_, err = db.StreakStart(ctx, srv.ID)
	check("StreakStart", err)

	ids, err := db.BulkServers(ctx, "acme", "bulk", 3)
	check("BulkServers", err)
	if len(ids) != 3 {
		t.Errorf("BulkServers made %d servers, want 3", len(ids))
	}
	rows := 0
	_, err = db.BulkSeed(ctx, func(r *store.SeedRow) bool {
		if rows == 2 {
			return false
		}
		rows++
		at := reevalNow.Add(-time.Duration(rows) * 24 * time.Hour)
		*r = store.SeedRow{ServerID: ids[0], ReceivedAt: at, Night: store.NightOf(at, time.UTC), Status: parser.StatusOK}
		return true
	})
	check("BulkSeed", err)
	_, err = db.Explain(ctx, store.QueryHistory, srv.ID)
	check("Explain", err)

	check("SetCodeInfo", db.SetCodeInfo(ctx, "t", parser.CodeInfo{Code: 23, Name: "partial", Meaning: "m", Action: "a"}))
	check("SetCodeInfo again", db.SetCodeInfo(ctx, "t", parser.CodeInfo{Code: 23, Name: "partial transfer", Meaning: "m", Action: "a"}))
	check("Ping", db.Ping(ctx))

	did, err := db.StartDelivery(ctx, "daily", []string{"a@example.com"}, "s")
	check("StartDelivery", err)
	check("AbandonDelivery", db.AbandonDelivery(ctx, did, "stopped"))

	k, err := db.AddKey(ctx, "t", store.Key{Customer: "acme", Fingerprint: "SHA256:x", Type: "ssh-ed25519", Bits: 256, PublicKey: "ssh-ed25519 AAAA"})
	check("AddKey", err)
	check("RecordLogin", db.RecordLogin(ctx, k.Fingerprint, store.Login{ClientVersion: "SSH-2.0-OpenSSH_9.2", RemoteAddr: "127.0.0.1"}))
	check("RevokeKey", db.RevokeKey(ctx, "t", k.Fingerprint))
}
