package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/backupreport/backupreport/store"
)

// The hot paths of an upload in store, run with -benchmem (make
// bench-speed). They assert nothing about time.

// BenchmarkCommitResult stores one judged code-23 upload with its log per
// iteration: the transaction (and fsync) every acknowledged upload waits for.
func BenchmarkCommitResult(b *testing.B) {
	db, srv := openAcme(b)
	u := uploadOf(b, db, srv.ID, readCase(b, "hand-cygwin-ssh-code23"), reevalNow)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.StoreUpload(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyLookup finds a key by its fingerprint among 1,000, as every
// login does.
func BenchmarkKeyLookup(b *testing.B) {
	db, _ := openAcme(b)
	ctx := context.Background()
	for i := 0; i < 1000; i++ {
		k := store.Key{Customer: "acme", Fingerprint: fmt.Sprintf("SHA256:bench%04d", i), Type: "ssh-ed25519", PublicKey: fmt.Sprintf("ssh-ed25519 AAAA%04d", i)}
		if _, err := db.AddKey(ctx, "t", k); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := db.KeyByFingerprint(ctx, fmt.Sprintf("SHA256:bench%04d", i%1000)); err != nil {
			b.Fatal(err)
		}
	}
}
