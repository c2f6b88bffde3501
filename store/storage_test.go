package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/pgtest"
	"github.com/backupreport/backupreport/store/reeval"
)

// noPause prunes without waiting between transactions: tests have no
// writers to let in.
var noPause = store.PruneOptions{Pause: -1}

// randomUpload is an upload whose log is n random bytes: it compresses to
// a little more than n, so stored sizes are known in advance.
func randomUpload(t testing.TB, serverID int64, n int, at time.Time) store.Upload {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return store.Upload{ServerID: serverID, ReceivedAt: at, Night: store.NightOf(at, time.UTC), Source: store.SourceUpload,
		Result: &parser.Result{Code: 23, Status: parser.StatusFailed, FileErrors: []parser.FileError{{Line: 1, Kind: parser.KindOpendir, Path: "x/y.pst", Message: "denied"}}},
		Log:    store.CompressLog(b)}
}

// saveAll stores uploads and returns their IDs, oldest first.
func saveAll(t testing.TB, db *store.DB, us ...store.Upload) []int64 {
	t.Helper()
	var ids []int64
	for _, u := range us {
		id, err := db.SaveUpload(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// hasLog reports whether a result still has its raw log.
func hasLog(t testing.TB, db *store.DB, id int64) bool {
	t.Helper()
	_, err := db.RawLogOf(context.Background(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestQuotaPrunesTheOldestLogsOfThatCustomerOnly(t *testing.T) {
	ctx := context.Background()
	db, acme := openAcme(t)
	db.AddCustomer(ctx, "t", store.Customer{Slug: "beta"})
	beta, _ := db.AddServer(ctx, "t", "beta", "dc01", false)
	acme2, _ := db.AddServer(ctx, "t", "acme", "fs02", false)
	var us, bs []store.Upload
	for i := 0; i < 6; i++ {
		at := reevalNow.Add(time.Duration(i-6) * time.Hour)
		srv := acme.ID
		if i%2 == 1 {
			srv = acme2.ID // the customer's logs count together, whatever the server
		}
		us = append(us, randomUpload(t, srv, 10000, at))
		bs = append(bs, randomUpload(t, beta.ID, 10000, at))
	}
	ids := saveAll(t, db, us...)
	betaIDs := saveAll(t, db, bs...)
	before, err := db.LogUsage(ctx, acme.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	if before.Logs != 6 || before.StoredBytes < 60000 || before.OriginalBytes != 60000 {
		t.Fatalf("usage before = %+v, want 6 logs of a little over 10000 stored bytes each", before)
	}

	// A cap of 3.5 logs keeps the 3 newest.
	st, err := db.EnforceLogQuota(ctx, acme.CustomerID, 35000, store.PruneOptions{Pause: -1, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st.Logs != 3 || st.Customer != "acme" || st.Quota != 35000 || st.Reason != store.PruneQuota || st.Transactions != 2 {
		t.Errorf("stats = %+v, want 3 logs of acme pruned under a 35000-byte cap, in 2 transactions of at most 2", st)
	}
	after, _ := db.LogUsage(ctx, acme.CustomerID)
	if after.Logs != 3 || after.StoredBytes > 35000 || after.StoredBytes != before.StoredBytes-st.StoredBytes {
		t.Errorf("usage after = %+v (freed %d), want 3 logs within 35000 bytes", after, st.StoredBytes)
	}
	if after.Oldest == nil || !after.Oldest.Equal(us[3].ReceivedAt) {
		t.Errorf("oldest kept = %v, want %v", after.Oldest, us[3].ReceivedAt)
	}
	for i, id := range ids {
		if got, want := hasLog(t, db, id), i >= 3; got != want {
			t.Errorf("acme upload %d (result %d): log kept = %v, want %v", i, id, got, want)
		}
		r, fes, err := db.Result(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != "failed" || r.Code != 23 || len(fes) != 1 {
			t.Errorf("result %d lost its verdict or file errors: %s code %d, %d file errors", id, r.Status, r.Code, len(fes))
		}
		pruned := r.RawLogPrunedAt != nil && r.RawLogPrunedAt.Equal(reevalNow) && r.RawLogPrunedReason == store.PruneQuota
		if pruned != (i < 3) {
			t.Errorf("result %d: pruned at %v for %q, want pruned now for quota: %v", id, r.RawLogPrunedAt, r.RawLogPrunedReason, i < 3)
		}
	}
	for _, id := range betaIDs {
		if !hasLog(t, db, id) {
			t.Errorf("beta's result %d lost its log to acme's quota", id)
		}
	}

	// Within the cap now: a second run only reads.
	if st, err := db.EnforceLogQuota(ctx, acme.CustomerID, 35000, noPause); err != nil || st.Logs != 0 || st.Transactions != 0 {
		t.Errorf("second run: %+v, %v; want nothing pruned", st, err)
	}
}

func TestQuotaNeverPrunesTheNewestLog(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	ids := saveAll(t, db,
		randomUpload(t, srv.ID, 5000, reevalNow.Add(-2*time.Hour)),
		randomUpload(t, srv.ID, 5000, reevalNow.Add(-1*time.Hour)),
		randomUpload(t, srv.ID, 20000, reevalNow)) // alone over the cap
	st, err := db.EnforceLogQuota(ctx, srv.CustomerID, 1000, noPause)
	if err != nil {
		t.Fatal(err)
	}
	if st.Logs != 2 {
		t.Errorf("pruned %d logs, want the 2 older ones", st.Logs)
	}
	if !hasLog(t, db, ids[2]) {
		t.Error("the newest log was pruned; it must stay whatever its size")
	}
	if st, err := db.EnforceLogQuota(ctx, srv.CustomerID, 1000, noPause); err != nil || st.Logs != 0 {
		t.Errorf("second run: %+v, %v; want nothing more pruned", st, err)
	}
}

func TestCustomerQuotaOverridesTheDefault(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	for i := 0; i < 4; i++ {
		saveAll(t, db, randomUpload(t, srv.ID, 10000, reevalNow.Add(time.Duration(i-4)*time.Hour)))
	}
	zero, small := int64(0), int64(25000)
	tests := []struct {
		name      string
		override  *int64
		def       int64
		wantQuota int64
		wantLogs  int // left
	}{
		{"a default of 0 means no cap", nil, 0, 0, 4},
		{"an override of 0 means no cap, whatever the default", &zero, 1, 0, 4},
		{"an override applies instead of a larger default", &small, 1 << 30, 25000, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.SetCustomerLogQuota(ctx, "web:admin", srv.CustomerID, tt.override); err != nil {
				t.Fatal(err)
			}
			got, err := db.CustomerLogQuota(ctx, srv.CustomerID)
			if err != nil || (got == nil) != (tt.override == nil) || (got != nil && *got != *tt.override) {
				t.Fatalf("CustomerLogQuota = %v, %v; want %v", got, err, tt.override)
			}
			st, err := db.EnforceLogQuota(ctx, srv.CustomerID, tt.def, noPause)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := db.LogUsage(ctx, srv.CustomerID)
			if st.Quota != tt.wantQuota || u.Logs != int64(tt.wantLogs) {
				t.Errorf("quota %d, %d logs left; want %d, %d", st.Quota, u.Logs, tt.wantQuota, tt.wantLogs)
			}
		})
	}
	if err := db.SetCustomerLogQuota(ctx, "web:admin", srv.CustomerID, new(int64(-1))); err == nil {
		t.Error("a negative quota was accepted")
	}
	if err := db.SetCustomerLogQuota(ctx, "web:admin", 999, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("quota of an unknown customer: %v, want ErrNotFound", err)
	}
}

func TestRetentionPrunesOldLogsInBatchesAndKeepsResults(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	var us []store.Upload
	for i := 0; i < 7; i++ { // 7 logs, 10 to 4 days old
		us = append(us, randomUpload(t, srv.ID, 100, reevalNow.AddDate(0, 0, i-10)))
	}
	ids := saveAll(t, db, us...)
	missing, err := db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: reevalNow.AddDate(0, 0, -20), Night: "2026-02-28", Source: store.SourceMissing})
	if err != nil {
		t.Fatal(err)
	}
	cutoff := reevalNow.AddDate(0, 0, -5).Add(-time.Minute) // keeps the 2 newest
	st, err := db.PruneRawLogsBefore(ctx, cutoff, store.PruneOptions{Pause: -1, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st.Logs != 5 || st.Reason != store.PruneRetention || st.Transactions != 3 {
		t.Errorf("stats = %+v, want 5 logs pruned for retention in 3 transactions of at most 2", st)
	}
	for i, id := range ids {
		if got, want := hasLog(t, db, id), i >= 5; got != want {
			t.Errorf("upload %d days old: log kept = %v, want %v", 10-i, got, want)
		}
		r, fes, _ := db.Result(ctx, id)
		if len(fes) != 1 || r.Status != "failed" {
			t.Errorf("result %d lost its verdict or file errors", id)
		}
		if (r.RawLogPrunedReason == store.PruneRetention) != (i < 5) {
			t.Errorf("result %d: pruned reason %q", id, r.RawLogPrunedReason)
		}
	}
	if r, _, err := db.Result(ctx, missing); err != nil || r.RawLogPrunedAt != nil || r.Status != store.StatusMissing {
		t.Errorf("missing night: %+v, %v; want untouched", r, err)
	}
	if st, err := db.PruneRawLogsBefore(ctx, cutoff, noPause); err != nil || st.Logs != 0 {
		t.Errorf("second run: %+v, %v; want nothing more", st, err)
	}
}

func TestReevaluationKeepsTheVerdictOfAPrunedLog(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	log := readCase(t, "real-ssh-unreadable") // one failing file: */Mail/archive.pst
	ids := saveAll(t, db, uploadOf(t, db, srv.ID, log, reevalNow.Add(-3*time.Hour)), uploadOf(t, db, srv.ID, log, reevalNow.Add(-time.Hour)))
	if _, err := db.PruneRawLogsBefore(ctx, reevalNow.Add(-2*time.Hour), noPause); err != nil {
		t.Fatal(err)
	}
	if hasLog(t, db, ids[0]) || !hasLog(t, db, ids[1]) {
		t.Fatal("the older log should be pruned, the newer kept")
	}
	if _, err := db.AddException(ctx, "t", "acme/fs01", "*/Mail/archive.pst", ""); err != nil {
		t.Fatal(err)
	}
	for _, only := range []bool{false, true} {
		st, err := reeval.Run(ctx, db, reeval.Options{OnlyFileErrors: only, Actor: "t", Reason: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if st.Results != 1 {
			t.Errorf("OnlyFileErrors=%v: judged %d results, want 1 (the pruned one skipped)", only, st.Results)
		}
	}
	pruned, fes, _ := db.Result(ctx, ids[0])
	if pruned.Status != "failed" || pruned.FileErrors != 1 || len(fes) != 1 || fes[0].Excepted {
		t.Errorf("pruned result: %s with %d file errors, want its stored verdict (failed, 1) kept", pruned.Status, pruned.FileErrors)
	}
	if kept, _, _ := db.Result(ctx, ids[1]); kept.Status != "ok" {
		t.Errorf("result with its log: %s, want ok with the new exception", kept.Status)
	}
}

func TestStorageByCustomerAddsUpEveryCustomer(t *testing.T) {
	ctx := context.Background()
	db, srv := openAcme(t)
	db.AddCustomer(ctx, "t", store.Customer{Slug: "empty"})
	saveAll(t, db, randomUpload(t, srv.ID, 1000, reevalNow.Add(-time.Hour)), randomUpload(t, srv.ID, 2000, reevalNow))
	q := int64(5 << 20)
	if err := db.SetCustomerLogQuota(ctx, "t", srv.CustomerID, &q); err != nil {
		t.Fatal(err)
	}
	cs, err := db.StorageByCustomer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Customer != "acme" || cs[1].Customer != "empty" {
		t.Fatalf("customers = %+v, want acme and empty", cs)
	}
	u, _ := db.LogUsage(ctx, srv.CustomerID)
	if cs[0].LogUsage.Logs != 2 || cs[0].StoredBytes != u.StoredBytes || cs[0].OriginalBytes != 3000 || cs[0].QuotaOverride == nil || *cs[0].QuotaOverride != q {
		t.Errorf("acme = %+v, want 2 logs of 3000 bytes as LogUsage says (%+v), quota %d", cs[0], u, q)
	}
	if cs[1].Logs != 0 || cs[1].StoredBytes != 0 || cs[1].Oldest != nil || cs[1].QuotaOverride != nil {
		t.Errorf("empty = %+v, want nothing", cs[1])
	}
	sp, err := db.Space(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pgtest.Wanted() {
		if sp.DBBytes <= 0 || sp.Path == "" || sp.DiskFreeBytes != -1 {
			t.Errorf("space = %+v, want the database's name and size, and free disk unknown", sp)
		}
	} else if sp.DBBytes <= 0 || sp.WALBytes <= 0 || sp.DiskFreeBytes <= 0 || filepath.Base(sp.Path) != "t.db" {
		t.Errorf("space = %+v, want the sizes of t.db and its WAL, and free disk", sp)
	}
}

// TestBackupWhileUploadsAreWritten takes a backup while a writer stores
// uploads: the copy opens, passes integrity_check and holds every upload
// committed before the backup began.
func TestBackupWhileUploadsAreWritten(t *testing.T) {
	store.SkipOnPostgres(t, "Backup is VACUUM INTO")
	ctx := context.Background()
	db, srv := openAcme(t)
	before := saveAll(t, db, randomUpload(t, srv.ID, 50000, reevalNow.Add(-time.Hour)))
	var wg sync.WaitGroup
	var stop atomic.Bool
	var written atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load() && i < 2000; i++ {
			if _, err := db.SaveUpload(ctx, randomUpload(t, srv.ID, 20000, reevalNow.Add(time.Duration(i)*time.Second))); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	}()
	for written.Load() < 5 {
		time.Sleep(time.Millisecond)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	size, err := db.Backup(ctx, path, false)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != size || size == 0 {
		t.Fatalf("backup size %d, file %v %v", size, fi, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".copy.db.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	cp, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if err := cp.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
	n, err := cp.CountResults(ctx, srv.ID)
	if err != nil || n < 1+5 || int64(n) > 1+written.Load() {
		t.Errorf("the copy holds %d results (%v), want between 6 and %d", n, err, 1+written.Load())
	}
	if _, err := cp.RawLogOf(ctx, before[0]); err != nil {
		t.Errorf("the copy lost a raw log: %v", err)
	}

	if _, err := db.Backup(ctx, path, false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("backup over an existing file: %v, want fs.ErrExist", err)
	}
	if _, err := db.Backup(ctx, path, true); err != nil {
		t.Errorf("backup with overwrite: %v", err)
	}
	if _, err := db.Backup(ctx, filepath.Join(t.TempDir(), "no", "such", "dir.db"), false); err == nil {
		t.Error("backup into a missing folder succeeded")
	}
}
