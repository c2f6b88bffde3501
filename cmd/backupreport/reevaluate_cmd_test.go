package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

func TestImportCustomersAndServersWithDryRun(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := runApp(t, "x long enough\n", "user", "add", "carol", "--role", "csr", "--data", data); code != exitOK {
		t.Fatal(errOut)
	}
	cust := filepath.Join(data, "customers.csv")
	os.WriteFile(cust, []byte("slug,name,csr,tsr,active\nacme,Acme Accounting,carol,,yes\nglobex,\"Globex, Inc.\",,,no\n"), 0o644)
	srv := filepath.Join(data, "servers.csv")
	os.WriteFile(srv, []byte("customer,server,expect_days,retired\nacme,EXCH01,,\nacme,FS01,mon-fri,no\nglobex,old,daily,yes\n"), 0o644)

	code, out, errOut := runApp(t, "", "import", "customers", cust, "--dry-run", "--data", data)
	if code != exitOK || !strings.Contains(out, "line 2: would add customer acme") || !strings.Contains(out, "dry run: 2 would be added") {
		t.Fatalf("dry run: %d\n%s%s", code, out, errOut)
	}
	if _, out, _ := runApp(t, "", "customer", "list", "--data", data); strings.Contains(out, "acme") {
		t.Fatalf("the dry run added customers:\n%s", out)
	}
	if code, out, errOut := runApp(t, "", "import", "servers", srv, "--data", data); code != exitFailure || !strings.Contains(errOut, "line 2") {
		t.Errorf("servers before their customers: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runApp(t, "", "import", "customers", cust, "--data", data); code != exitOK || !strings.Contains(out, "2 added, 0 updated") {
		t.Fatalf("import customers: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runApp(t, "", "import", "servers", srv, "--data", data); code != exitOK || !strings.Contains(out, "3 added") {
		t.Fatalf("import servers: %d %s %s", code, out, errOut)
	}
	os.WriteFile(srv, []byte("customer,server,expect_days,retired\nacme,FS01,mon wed fri,no\n"), 0o644)
	code, out, _ = runApp(t, "", "import", "servers", srv, "--dry-run", "--data", data)
	if code != exitOK || !strings.Contains(out, "would update server acme/FS01: expect mon tue wed thu fri -> mon wed fri") {
		t.Errorf("dry run of a change: %d\n%s", code, out)
	}
	os.WriteFile(srv, []byte("customer,server,expect,retired\nacme,FS01,,\n"), 0o644)
	if code, _, errOut := runApp(t, "", "import", "servers", srv, "--data", data); code != exitFailure || !strings.Contains(errOut, `unknown column "expect"`) {
		t.Errorf("a misspelt column: %d %s", code, errOut)
	}
}

func TestExceptionChangesAndReevaluateCommand(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	db, err := store.OpenDir(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	db.AddCustomer(ctx, "t", store.Customer{Slug: "acme"})
	srv, _ := db.AddServer(ctx, "t", "acme", "fs01", false)
	log, err := os.ReadFile("../../testdata/rsync/real-ssh-unreadable/stats.out")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := parser.Parse(bytes.NewReader(log))
	at := time.Now().Add(-time.Hour)
	id, err := db.SaveUpload(ctx, store.Upload{ServerID: srv.ID, ReceivedAt: at, Night: store.NightOf(at, time.Local), Source: store.SourceUpload, Result: r,
		Log: store.CompressLog(log)})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	status := func() string {
		db, _ := store.OpenDir(ctx, data)
		defer db.Close()
		r, _, _ := db.Result(ctx, id)
		return string(r.Status)
	}

	code, out, errOut := runApp(t, "", "exception", "add", "acme/fs01", "*/Mail/archive.pst", "--note", "VSS copy", "--data", data)
	if code != exitOK || !strings.Contains(out, "re-evaluated 1 results of the last 7 days: 1 verdicts changed") {
		t.Fatalf("exception add: %d\n%s%s", code, out, errOut)
	}
	if s := status(); s != "ok" {
		t.Errorf("after exception add the result is %s, want ok", s)
	}
	code, out, _ = runApp(t, "", "exception", "edit", "1", "*/Mail/nothing.pst", "--data", data)
	if code != exitOK || !strings.Contains(out, "1 verdicts changed") || status() != "failed" {
		t.Errorf("exception edit: %d %s, status %s", code, out, status())
	}
	runApp(t, "", "exception", "edit", "1", "*.pst", "--data", data)
	code, out, _ = runApp(t, "", "exception", "remove", "1", "--data", data)
	if code != exitOK || !strings.Contains(out, "1 verdicts changed") || status() != "failed" {
		t.Errorf("exception remove: %d %s, status %s", code, out, status())
	}

	t.Run("reevaluate --all prints plain progress lines when not on a terminal", func(t *testing.T) {
		code, out, errOut := runApp(t, "", "reevaluate", "--all", "--data", data)
		if code != exitOK || !strings.Contains(out, "reevaluate: 1/1 results (100%)") || !strings.Contains(out, "re-evaluated 1 results") || strings.Contains(out, "\r") {
			t.Errorf("reevaluate --all: %d %q %q", code, out, errOut)
		}
	})
	t.Run("on a terminal it draws a bar", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, isTerminal: true}
		if code := a.main(ctx, []string{"reevaluate", "--since", time.Now().AddDate(0, 0, -2).Format(time.DateOnly), "--data", data}); code != exitOK {
			t.Fatal(stderr.String())
		}
		if !strings.Contains(stdout.String(), "\r[##############################] 100% 1/1 results") {
			t.Errorf("terminal output %q", stdout.String())
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"--since and --all together", []string{"--all", "--since", "2026-01-01"}, "not both"},
		{"a bad date", []string{"--since", "yesterday"}, "want a date"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			code, _, errOut := runApp(t, "", append([]string{"reevaluate", "--data", data}, tc.args...)...)
			if code != exitFailure || !strings.Contains(errOut, tc.err) {
				t.Errorf("%v: %d %s", tc.args, code, errOut)
			}
		})
	}
}
