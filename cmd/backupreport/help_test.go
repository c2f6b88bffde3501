package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp runs "--help" on every command and verb of the
// registry: it must print a usage text on stdout and exit 0, without
// touching any data.
func TestEveryCommandHasHelp(t *testing.T) {
	var names [][]string
	for name := range commands {
		names = append(names, []string{name})
		for _, v := range verbsOf(name) {
			names = append(names, []string{name, v})
		}
	}
	if len(names) == len(commands) {
		t.Fatal("the registry lists no verbs: verbsOf is broken")
	}
	for _, n := range names {
		t.Run(strings.Join(n, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
			code := a.main(context.Background(), append(n, "--help"))
			if code != exitOK || !strings.Contains(out.String(), "Usage: backupreport "+n[0]) {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
			}
		})
	}
}

// TestUsageErrorsExit2 checks that bad arguments exit 2 with a hint.
func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{{"nosuch"}, {"customer"}, {"customer", "add"}, {"status", "--bogus"}, {"server", "add", "a/b", "c"}} {
		var out, errb bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		if code := a.main(context.Background(), args); code != exitUsage || errb.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errb.String())
		}
	}
}

// TestFlagsFromEnvironment: BACKUPREPORT_<FLAG> sets a flag's default.
func TestFlagsFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	env := map[string]string{"BACKUPREPORT_DATA": dir}
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	if code := a.main(context.Background(), []string{"customer", "add", "acme"}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	out.Reset()
	if code := a.main(context.Background(), []string{"customer", "list", "--json", "--data", dir}); code != exitOK || !strings.Contains(out.String(), `"slug": "acme"`) {
		t.Errorf("customer added with BACKUPREPORT_DATA is not in that folder: %s", out.String())
	}
}
