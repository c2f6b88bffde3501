package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/backupreport/backupreport/store"
)

// TestConcurrentUploadsAreAllStored stores uploads from many goroutines at
// once (they share group commits) and finds every acknowledged one, one
// failing write failing alone, with
// the servers they registered each registered once.
func TestConcurrentUploadsAreAllStored(t *testing.T) {
	db, srv := openAcme(t)
	ctx := context.Background()
	u := uploadOf(t, db, srv.ID, readCase(t, "hand-cygwin-ssh-code23"), reevalNow)
	const n = 200
	var wg sync.WaitGroup
	ids := make([]int64, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := u
			if i == 7 { // a server that does not exist: it fails alone
				v.ServerID = 999999
			} else if i%2 == 1 { // half register one new server, racing each other
				v.ServerID, v.Register = 0, &store.NewServer{CustomerID: srv.CustomerID, Name: "new01"}
			}
			var s store.Saved
			s, errs[i] = db.StoreUpload(ctx, v)
			ids[i] = s.ResultID
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i := range ids {
		if i == 7 {
			if errs[i] == nil {
				t.Errorf("upload to a server that does not exist: stored, want an error")
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("upload %d: %v", i, errs[i])
		}
		if seen[ids[i]] {
			t.Fatalf("upload %d: result ID %d given twice", i, ids[i])
		}
		seen[ids[i]] = true
	}
	got, err := db.CountSelected(ctx, store.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	if got != n-1 {
		t.Errorf("results stored: got %d, want %d", got, n-1)
	}
}

// TestUploadOfARevokedKeyIsNotStored revokes, then removes, the key of an
// upload before its commit: StoreUpload stores nothing and says why, and
// an upload of a key in good standing, in the same group, still commits.
func TestUploadOfARevokedKeyIsNotStored(t *testing.T) {
	db, srv := openAcme(t)
	ctx := context.Background()
	k, err := db.AddKey(ctx, "t", store.Key{Customer: "acme", Fingerprint: "SHA256:revoked", Type: "ssh-ed25519", Bits: 256, PublicKey: "ssh-ed25519 AAAA"})
	if err != nil {
		t.Fatal(err)
	}
	good, err := db.AddKey(ctx, "t", store.Key{Customer: "acme", Fingerprint: "SHA256:good", Type: "ssh-ed25519", Bits: 256, PublicKey: "ssh-ed25519 AAAB"})
	if err != nil {
		t.Fatal(err)
	}
	u := uploadOf(t, db, srv.ID, readCase(t, "hand-cygwin-ssh-code23"), reevalNow)
	u.KeyID = &k.ID
	if _, err := db.StoreUpload(ctx, u); err != nil {
		t.Fatalf("upload before the revocation: %v", err)
	}
	if err := db.RevokeKey(ctx, "t", k.Fingerprint); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var errRevoked, errGood error
	wg.Add(2)
	go func() { defer wg.Done(); _, errRevoked = db.StoreUpload(ctx, u) }()
	go func() {
		defer wg.Done()
		v := u
		v.KeyID = &good.ID
		_, errGood = db.StoreUpload(ctx, v)
	}()
	wg.Wait()
	if !errors.Is(errRevoked, store.ErrKeyRevoked) {
		t.Errorf("upload of a revoked key: err %v, want ErrKeyRevoked", errRevoked)
	}
	if errGood != nil {
		t.Errorf("upload of a key in good standing beside it: %v", errGood)
	}
	missing := int64(999999)
	u.KeyID = &missing
	if _, err := db.StoreUpload(ctx, u); !errors.Is(err, store.ErrKeyRevoked) {
		t.Errorf("upload of a removed key: err %v, want ErrKeyRevoked", err)
	}
	got, err := db.CountSelected(ctx, store.Selection{})
	if err != nil {
		t.Fatal(err)
	}
	if got != 2 {
		t.Errorf("results stored: got %d, want 2 (before the revocation, and the good key's)", got)
	}
}
