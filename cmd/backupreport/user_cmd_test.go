package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUserAddAndList(t *testing.T) {
	data := t.TempDir()
	pwFile := filepath.Join(data, "pw")
	os.WriteFile(pwFile, []byte("from a file, long\n"), 0o600)
	tests := []struct {
		name   string
		stdin  string
		args   []string
		status int
		out    string
		errOut string
	}{
		{"a password from a file", "", []string{"user", "add", "alice", "--role", "admin", "--password-file", pwFile, "--email", "a@x.example"}, exitOK, "added alice (admin)", ""},
		{"a password from standard input", "from stdin, long\n", []string{"user", "add", "tom", "--role", "tech"}, exitOK, "added tom (tech)", ""},
		{"no password given: one is generated and printed", "", []string{"user", "add", "carol", "--role", "csr"}, exitOK, "password: ", ""},
		{"an unknown role is refused", "", []string{"user", "add", "eve", "--role", "root"}, exitFailure, "", "--role must be"},
		{"a duplicate name is refused", "x long enough\n", []string{"user", "add", "ALICE", "--role", "csr"}, exitFailure, "", "exists already"},
		{"a short password is refused", "short\n", []string{"user", "add", "dan", "--role", "csr"}, exitFailure, "", "at least 10"},
		{"no username is a usage error", "", []string{"user", "add", "--role", "csr"}, exitUsage, "", "want 1 argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runApp(t, tc.stdin, append(tc.args, "--data", data)...)
			if code != tc.status || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.errOut) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out, errOut, tc.status, tc.out, tc.errOut)
			}
		})
	}
	code, out, _ := runApp(t, "", "user", "list", "--json", "--data", data)
	var users []struct{ Username, Role, Email string }
	if code != exitOK || json.Unmarshal([]byte(out), &users) != nil || len(users) != 3 {
		t.Fatalf("user list --json: %d %s", code, out)
	}
	if users[0].Username != "alice" || users[0].Email != "a@x.example" || strings.Contains(out, "password") {
		t.Errorf("user list: %+v (and must not show password hashes)", users)
	}
	if _, out, _ := runApp(t, "", "user", "list", "--data", data); !strings.Contains(out, "tom") || !strings.Contains(out, "tech") {
		t.Errorf("user list table: %s", out)
	}
}

func TestDemoFillsOnlyANewFolder(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := runApp(t, "", "demo", "--data", data, "--nights", "5", "--timezone", "UTC")
	if code != exitOK || !strings.Contains(out, "5 customers, 12 servers") || !strings.Contains(out, "alice") {
		t.Fatalf("demo: %d\n%s\n%s", code, out, errOut)
	}
	t.Run("again without --if-new fails", func(t *testing.T) {
		if code, _, errOut := runApp(t, "", "demo", "--data", data); code != exitFailure || !strings.Contains(errOut, "demo data already") {
			t.Errorf("second demo: %d %s", code, errOut)
		}
	})
	t.Run("again with --if-new does nothing and succeeds", func(t *testing.T) {
		if code, out, _ := runApp(t, "", "demo", "--data", data, "--if-new"); code != exitOK || !strings.Contains(out, "nothing to do") {
			t.Errorf("demo --if-new: %d %s", code, out)
		}
	})
	t.Run("a folder with real data is refused, even with --if-new", func(t *testing.T) {
		real := t.TempDir()
		if code, _, errOut := runApp(t, "", "customer", "add", "acme", "--data", real); code != exitOK {
			t.Fatalf("customer add: %s", errOut)
		}
		if code, _, errOut := runApp(t, "", "demo", "--data", real, "--if-new"); code != exitFailure || !strings.Contains(errOut, "real data") {
			t.Errorf("demo on real data: %d %s", code, errOut)
		}
	})
	if code, out, _ := runApp(t, "", "status", "--json", "--data", data); code != exitOK || !strings.Contains(out, "SBS2011") {
		t.Errorf("status after demo: %d %.200s", code, out)
	}
}
