package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backupreport/backupreport/store"
)

// cliRun runs one command in process on a data folder.
func cliRun(t *testing.T, data string, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := a.main(context.Background(), append(args, "--data", data))
	return out.String() + errb.String(), code
}

func TestManagementFromTheCommandLine(t *testing.T) {
	data := t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		out, code := cliRun(t, data, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, out)
		}
		return out
	}
	must("customer", "add", "acme")
	must("server", "add", "acme/exch01")
	must("server", "add", "acme/old")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("a long enough password\n"), 0o600)
	must("user", "add", "carol", "--role", "csr", "--password-file", pw)

	must("server", "expect", "acme/exch01", "mon-fri")
	must("server", "retire", "acme/old")
	must("customer", "edit", "acme", "--name", "Acme Corp", "--csr", "carol")
	var servers []store.Server
	json.Unmarshal([]byte(must("server", "list", "--json")), &servers)
	for _, s := range servers {
		switch s.Name {
		case "exch01":
			if s.ExpectDays != 0b0111110 || s.Retired {
				t.Errorf("exch01 = %+v, want expected Monday to Friday", s)
			}
		case "old":
			if !s.Retired {
				t.Errorf("old was not retired")
			}
		}
	}
	var customers []store.Customer
	json.Unmarshal([]byte(must("customer", "list", "--json")), &customers)
	if len(customers) != 1 || customers[0].Name != "Acme Corp" || customers[0].CSR != "carol" || !customers[0].Active {
		t.Errorf("customer = %+v, want Acme Corp with CSR carol, still active", customers)
	}
	if out := must("status"); strings.Contains(out, "old") {
		t.Errorf("a retired server is in the nightly report:\n%s", out)
	}
	must("server", "reactivate", "acme/old")
	if out := must("status"); !strings.Contains(out, "old") {
		t.Errorf("a reactivated server is not in the nightly report:\n%s", out)
	}

	os.WriteFile(pw, []byte("another long password\n"), 0o600)
	if out := must("user", "passwd", "carol", "--password-file", pw); !strings.Contains(out, "password of carol changed") {
		t.Errorf("passwd: %s", out)
	}
	must("user", "disable", "carol")
	var users []store.User
	json.Unmarshal([]byte(must("user", "list", "--json")), &users)
	if len(users) != 1 || users[0].Active {
		t.Errorf("users = %+v, want carol disabled", users)
	}
	if out, code := cliRun(t, data, "server", "expect", "acme/exch01", "someday"); code == 0 {
		t.Errorf("a bad weekday was accepted: %s", out)
	}
	// Every change is in the audit log with the command line as actor.
	db, err := store.OpenDir(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, _ := db.Audit(context.Background(), 100)
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Actor, "cli:") && (e.Action == "server.update" || e.Action == "customer.update") {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d server/customer updates audited, want 4", n)
	}
}
