package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// warnedRow is the part of status and history --json about warnings.
type warnedRow struct {
	Customer string `json:"customer"`
	Server   string `json:"server"`
	Warnings []struct {
		Kind    string           `json:"kind"`
		Message string           `json:"message"`
		Numbers map[string]int64 `json:"numbers"`
	} `json:"warnings"`
	NewErrors       int `json:"new_errors"`
	RecurringErrors int `json:"recurring_errors"`
}

func (w warnedRow) kinds() string {
	var out []string
	for _, x := range w.Warnings {
		out = append(out, x.Kind)
	}
	return strings.Join(out, ",")
}

// TestWarningsEndToEnd: a server with ten ordinary nights uploads, through
// OpenSSH, a real rsync run that deleted an unreadable folder's backup.
// status and history --json carry its warnings and error memory; a
// re-evaluation gives the same, and --warn-size-drop changes what warns.
func TestWarningsEndToEnd(t *testing.T) {
	in := startServe(t)
	in.mustCLI("customer", "add", "acme")
	key := in.newKey("k", "ed25519", 0)
	in.addKey("acme", key)
	seedNights(t, in.data, "acme", "fs01", 10, 60000)

	if r := in.upload(key, "cat > /reports/acme/fs01.out", statsOut(t, "real-ssh-unreadable-delete")); r.code != 0 {
		t.Fatalf("upload: %d %s", r.code, r.stderr)
	}
	status := func() warnedRow {
		t.Helper()
		var rows []warnedRow
		if err := json.Unmarshal([]byte(in.mustCLI("status", "--json")), &rows); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Customer == "acme" && r.Server == "fs01" {
				return r
			}
		}
		t.Fatal("status --json has no acme/fs01")
		return warnedRow{}
	}
	got := status()
	if got.kinds() != "mass_deletion,size_drop" || got.NewErrors != 1 || got.RecurringErrors != 0 {
		t.Fatalf("status: %+v; want mass_deletion,size_drop and 1 new error", got)
	}
	if n := got.Warnings[1].Numbers["median_total_size"]; n < 60000 || n > 60010 {
		t.Errorf("size_drop median_total_size = %d, want the ten nights' median", n)
	}
	if table := in.mustCLI("status"); !strings.Contains(table, "mass_deletion,size_drop") || !strings.Contains(table, "1 with warnings nobody acknowledged") {
		t.Errorf("status table lacks the warnings:\n%s", table)
	}
	var hist []warnedRow
	if err := json.Unmarshal([]byte(in.mustCLI("history", "acme/fs01", "--json", "--limit", "1")), &hist); err != nil || len(hist) != 1 {
		t.Fatalf("history --json: %v", err)
	}
	if hist[0].kinds() != got.kinds() {
		t.Errorf("history --json warnings %q, want %q", hist[0].kinds(), got.kinds())
	}
	if !strings.Contains(in.logs.String(), `msg="early warning"`) {
		t.Errorf("serve did not log the warning:\n%s", in.logs.String())
	}

	in.mustCLI("reevaluate", "--all")
	if again := status(); again.kinds() != got.kinds() {
		t.Errorf("after reevaluate --all: %q, want %q", again.kinds(), got.kinds())
	}
	in.mustCLI("reevaluate", "--all", "--warn-size-drop", "90")
	if loose := status(); loose.kinds() != "mass_deletion" {
		t.Errorf("after reevaluate --warn-size-drop 90: %q, want mass_deletion only (a 67%% drop is under 90%%)", loose.kinds())
	}
	if r := in.cli("reevaluate", "--warn-size-drop", "0"); r.code != exitUsage || !strings.Contains(r.stderr, "size drop") {
		t.Errorf("--warn-size-drop 0: exit %d, %q; want a usage error (%d)", r.code, r.stderr, exitUsage)
	}
}

// seedNights gives a server n ordinary earlier nights (as an older
// release's uploads would have), written through the store while serve
// runs, as the command line does.
func seedNights(t *testing.T, data, customer, server string, n int, total int64) {
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenDir(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv, err := db.AddServer(ctx, "test", customer, server, false)
	if err != nil {
		t.Fatal(err)
	}
	for d := n; d >= 1; d-- {
		at := time.Now().Add(-time.Duration(d) * 24 * time.Hour)
		log := fmt.Sprintf("sending incremental file list\ndocs/a.txt\n\nsent 900 bytes  received 80 bytes  900.00 bytes/sec\ntotal size is %d  speedup is 60.00\n", total+int64(d))
		r, err := parser.Parse(strings.NewReader(log))
		if err != nil {
			t.Fatal(err)
		}
		parser.Judge(r, parser.Facts{}, nil)
		if _, err := db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: at, Night: store.NightOf(at, time.UTC), Source: store.SourceUpload,
			Result: r, Log: store.CompressLog([]byte(log))}); err != nil {
			t.Fatal(err)
		}
	}
}
