package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	okLog = "sending incremental file list\n/E/a.txt\n\n" +
		"sent 1,234 bytes  received 56 bytes  860.00 bytes/sec\ntotal size is 1,234  speedup is 0.96\n"
	partialLog = "sending incremental file list\n" +
		`rsync: [sender] send_files failed to open "/E/Mail/outlook.pst": Permission denied (13)` + "\n" +
		`file has vanished: "/E/tmp/x.tmp"` + "\n\n" +
		"sent 1,234 bytes  received 56 bytes  860.00 bytes/sec\ntotal size is 1,234  speedup is 0.96\n" +
		"rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n"
)

// massDeletionLog is the unreadable-folder case: rsync deletes the
// folder's backed-up files after its opendir failed.
const massDeletionLog = "sending incremental file list\n" +
	`rsync: [sender] opendir "/E/proj2" failed: Permission denied (13)` + "\n" +
	"deleting E/proj2/a.doc\ndeleting E/proj2/b.doc\n\n" +
	"sent 1 bytes  received 2 bytes  6.00 bytes/sec\ntotal size is 9  speedup is 3.00\n" +
	"rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n"

// runApp runs backupreport with args and stdin, and returns its exit
// status, stdout and stderr.
func runApp(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	code := a.main(context.Background(), args)
	return code, stdout.String(), stderr.String()
}

func TestParseCommand(t *testing.T) {
	dir := t.TempDir()
	okFile := filepath.Join(dir, "ok.out")
	if err := os.WriteFile(okFile, []byte(okLog), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stdin  string
		args   []string
		status int
		stdout []string // substrings
		stderr string
	}{
		{"an ok run from a file exits 0", "", []string{"parse", okFile}, exitOK, []string{"Verdict:  OK", "Code:     0 (success)", "File errors: none"}, ""},
		{"an ok run from stdin with - exits 0", okLog, []string{"parse", "-"}, exitOK, []string{"Verdict:  OK"}, ""},
		{"a code-23 run exits 1 and lists its file errors", partialLog, []string{"parse"}, exitFailure,
			[]string{"Verdict:  FAILED", "Code:     23", "To do:", "/E/Mail/outlook.pst", "[vanished: does not count]", "rsync:    3.2.7"}, ""},
		{"an exception makes the code-23 run ok", partialLog, []string{"parse", "--exception", "*.PST"}, exitOK,
			[]string{"Verdict:  OK", "[excepted by *.PST]"}, ""},
		{"an exception after the file name works too", partialLog, []string{"parse", "-", "--exception=*/mail/*"}, exitOK, []string{"Verdict:  OK"}, ""},
		{"a code-23 run with only a vanished file exits 1 and says why", "file has vanished: \"/E/x\"\n" +
			"rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n",
			[]string{"parse"}, exitFailure, []string{"Verdict:  FAILED", "No file error other than vanished files was recognised"}, ""},
		{"deletions under an unreadable folder print a mass_deletion warning", massDeletionLog, []string{"parse"}, exitFailure,
			[]string{"Verdict:  FAILED", "Warning:  mass_deletion: 2 of 2 deletions"}, ""},
		{"an exception for the unreadable folder keeps the warning", massDeletionLog, []string{"parse", "--exception", "/E/proj2"}, exitOK,
			[]string{"Verdict:  OK", "Warning:  mass_deletion"}, ""},
		{"parse --json carries the warnings array", massDeletionLog, []string{"parse", "--json"}, exitFailure,
			[]string{`"warnings": [`, `"kind": "mass_deletion"`, `"deleted_unreadable": 2,`}, ""},
		{"parse --json of an ordinary run has an empty warnings array", okLog, []string{"parse", "--json"}, exitOK,
			[]string{`"warnings": []`}, ""},
		{"an empty input is code -2 and exits 1", "", []string{"parse"}, exitFailure, []string{"Code:     -2"}, ""},
		{"a missing file exits 2", "", []string{"parse", filepath.Join(dir, "nope.out")}, exitUsage, nil, "no such file"},
		{"two files exit 2", "", []string{"parse", okFile, okFile}, exitUsage, nil, "at most one FILE"},
		{"an unknown flag exits 2", "", []string{"parse", "--bogus"}, exitUsage, nil, "bogus"},
		{"--help exits 0 and names the flags", "", []string{"parse", "--help"}, exitOK, []string{"--exception", "--json"}, ""},
		{"a directory is a read error and exits 2", "", []string{"parse", dir}, exitUsage, nil, "read rsync output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, stdout, stderr := runApp(t, tt.stdin, tt.args...)
			if status != tt.status {
				t.Errorf("backupreport %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, status, tt.status, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("backupreport %v: stdout lacks %q:\n%s", tt.args, s, stdout)
				}
			}
			if tt.stderr != "" && !strings.Contains(stderr, tt.stderr) {
				t.Errorf("backupreport %v: stderr lacks %q:\n%s", tt.args, tt.stderr, stderr)
			}
		})
	}
}

// TestParseCommandJSON pins the JSON contract of the README.
func TestParseCommandJSON(t *testing.T) {
	status, stdout, stderr := runApp(t, partialLog, "parse", "--json", "--exception", "*.pst")
	if status != exitOK {
		t.Fatalf("exit %d, want 0; stderr %s", status, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	want := map[string]any{
		"code": 23.0, "status": "ok", "complete": true, "rsync_version": "3.2.7",
		"sent_bytes": 1234.0, "received_bytes": 56.0, "total_size": 1234.0, "speedup": 0.96, "dry_run": false, "lines": 7.0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	errs, ok := got["file_errors"].([]any)
	if !ok || len(errs) != 2 {
		t.Fatalf("file_errors = %#v, want 2 entries", got["file_errors"])
	}
	first := errs[0].(map[string]any)
	for k, v := range map[string]any{"line": 2.0, "kind": "open_failed", "path": "/E/Mail/outlook.pst", "excepted": true} {
		if first[k] != v {
			t.Errorf("file_errors[0].%s = %#v, want %#v", k, first[k], v)
		}
	}
	if _, ok := first["message"].(string); !ok {
		t.Errorf("file_errors[0].message missing: %#v", first)
	}

	// No file errors is [], never null.
	_, stdout, _ = runApp(t, okLog, "parse", "--json")
	if !strings.Contains(stdout, `"file_errors": []`) {
		t.Errorf("an ok run's JSON lacks \"file_errors\": []:\n%s", stdout)
	}
}

// TestParseFileInPlaceEqualsStream: a file given by name is mapped and
// parsed in place, standard input is read as a stream; both give the same
// output and exit status for every log in testdata/rsync.
func TestParseFileInPlaceEqualsStream(t *testing.T) {
	logs, err := filepath.Glob(filepath.Join("..", "..", "testdata", "rsync", "*", "stats.out"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no logs: %v", err)
	}
	for _, path := range logs {
		in, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"parse", "--json"}, {"parse", "--exception", "*.pst"}} {
			fileCode, fileOut, fileErr := runApp(t, "", append(args, path)...)
			streamCode, streamOut, streamErr := runApp(t, string(in), append(args, "-")...)
			if fileCode != streamCode || fileOut != streamOut || fileErr != streamErr {
				t.Errorf("%s %v: from the file %d\n%s%s\nfrom standard input %d\n%s%s", path, args, fileCode, fileOut, fileErr, streamCode, streamOut, streamErr)
			}
		}
	}
}
