package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// randomLog is an rsync report padded with n random bytes as hex lines,
// so that it compresses to a known order of size.
func randomLog(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n/2)
	rand.Read(b)
	var sb strings.Builder
	h := hex.EncodeToString(b)
	for len(h) > 64 {
		sb.WriteString(h[:64] + "\n")
		h = h[64:]
	}
	sb.WriteString("sent 1,234 bytes  received 56 bytes  2,580.00 bytes/sec\ntotal size is 9,876  speedup is 7.66\n")
	return []byte(sb.String())
}

// seedLogs makes a data folder with customer acme, server fs01 and the
// given uploads' logs, received at the given times.
func seedLogs(t *testing.T, at ...time.Time) (string, *store.DB, store.Server) {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	db, err := store.OpenDir(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.AddCustomer(ctx, "t", store.Customer{Slug: "acme"})
	srv, err := db.AddServer(ctx, "t", "acme", "fs01", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range at {
		if _, err := db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: a, Night: store.NightOf(a, time.UTC), Source: store.SourceUpload,
			Result: &parser.Result{Status: parser.StatusOK}, Log: store.CompressLog(randomLog(t, 4000))}); err != nil {
			t.Fatal(err)
		}
	}
	return data, db, srv
}

func TestBackupCommand(t *testing.T) {
	now := time.Now()
	data, _, srv := seedLogs(t, now.Add(-time.Hour), now)
	out := filepath.Join(t.TempDir(), "copy.db")
	tests := []struct {
		name   string
		args   []string
		status int
		stdout string
		stderr string
	}{
		{"writes a copy and says where and how big", []string{"backup", out, "--data", data}, exitOK, "backup written: " + out + " (", ""},
		{"refuses to replace a file", []string{"backup", out, "--data", data}, exitFailure, "", "exists; choose another name or add --force"},
		{"replaces it with --force", []string{"backup", "--force", out, "--data", data}, exitOK, "backup written", ""},
		{"fails clearly without a database", []string{"backup", out + "2", "--data", filepath.Join(data, "nothing")}, exitFailure, "", "no database at"},
		{"fails clearly when the folder is missing", []string{"backup", filepath.Join(t.TempDir(), "no", "x.db"), "--data", data}, exitFailure, "", "backup to"},
		{"wants a file", []string{"backup", "--data", data}, exitUsage, "", "want one FILE"},
		{"explains itself", []string{"backup", "--help"}, exitOK, "VACUUM INTO", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runApp(t, "", tt.args...)
			if code != tt.status || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.status, stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(data, "nothing")); err == nil {
		t.Error("backup created a data folder that did not exist")
	}
	cp, err := store.Open(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if err := cp.IntegrityCheck(context.Background()); err != nil {
		t.Error(err)
	}
	if n, _ := cp.CountResults(context.Background(), srv.ID); n != 2 {
		t.Errorf("the copy holds %d results, want 2", n)
	}
}

func TestStorageCommandShowsUseAgainstTheCap(t *testing.T) {
	now := time.Now()
	data, db, srv := seedLogs(t, now.Add(-time.Hour), now)
	u, _ := db.LogUsage(context.Background(), srv.CustomerID)
	code, out, errOut := runApp(t, "", "storage", "--json", "--customer-log-quota", "1000000", "--data", data)
	if code != exitOK {
		t.Fatalf("storage --json: %d %s", code, errOut)
	}
	var rep storageReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Customers) != 1 || rep.Customers[0].Logs != 2 || rep.Customers[0].StoredBytes != u.StoredBytes || rep.Customers[0].Quota != 1000000 ||
		rep.Customers[0].UsePercent == nil || rep.RetentionDays != store.DefaultRetentionDays || rep.Space.DBBytes == 0 {
		t.Errorf("storage --json = %s", out)
	}
	code, out, _ = runApp(t, "", "storage", "--data", data)
	if code != exitOK || !strings.Contains(out, "CUSTOMER") || !strings.Contains(out, "acme") || !strings.Contains(out, "1.0 GiB") {
		t.Errorf("storage: %d\n%s", code, out)
	}
	if code, _, errOut := runApp(t, "", "storage", "--customer-log-quota", "-1", "--data", data); code != exitFailure || !strings.Contains(errOut, "--customer-log-quota") {
		t.Errorf("a negative cap: %d %s", code, errOut)
	}
}

// TestQuotaAndBackupWhileServeRuns uploads with real ssh to a serve with a
// small cap: the oldest logs go, the results stay, and a backup taken
// while serve runs opens and holds them.
func TestQuotaAndBackupWhileServeRuns(t *testing.T) {
	in := startServe(t, "--customer-log-quota", "6000")
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("k", "ed25519", 0)
	in.addKey("acme", key)
	for i := 0; i < 4; i++ {
		if r := in.upload(key, "cat > /reports/acme/fs01.out", randomLog(t, 6000)); r.code != 0 {
			t.Fatalf("upload %d: %d %s", i, r.code, r.stderr)
		}
	}
	if n := in.historyLen("acme/fs01"); n != 4 {
		t.Errorf("%d results, want all 4 kept", n)
	}
	var rep storageReport
	if err := json.Unmarshal([]byte(in.mustCLI("storage", "--json", "--customer-log-quota", "6000")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Customers) != 1 || rep.Customers[0].Logs < 1 || rep.Customers[0].Logs > 2 || (rep.Customers[0].Logs == 2 && rep.Customers[0].StoredBytes > 6000) {
		t.Errorf("after 4 uploads of about 6 KB stored (hex does not shrink under S2) under a 6000-byte cap: %+v", rep.Customers)
	}
	if !strings.Contains(in.logs.String(), "raw logs pruned") || !strings.Contains(in.logs.String(), "customer=acme") {
		t.Errorf("no log line for the quota:\n%s", in.logs.String())
	}
	out := filepath.Join(t.TempDir(), "b.db")
	if s := in.mustCLI("backup", out); !strings.Contains(s, "backup written") {
		t.Errorf("backup: %s", s)
	}
	cp, err := store.Open(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if err := cp.IntegrityCheck(context.Background()); err != nil {
		t.Error(err)
	}
	srv, err := cp.ServerByName(context.Background(), "acme", "fs01")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := cp.CountResults(context.Background(), srv.ID); n != 4 {
		t.Errorf("the backup holds %d results, want 4", n)
	}
}
