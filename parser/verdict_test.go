package parser

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"*.pst", "/cygdrive/E/shares/Mail/outlook.pst", true},
		{"*.pst", "/cygdrive/E/shares/Mail/outlook.PST", true},
		{"*.PST", "/cygdrive/E/shares/Mail/outlook.pst", true},
		{"*.pst", "/cygdrive/E/shares/Mail/outlook.pst.bak", false},
		{"*/QuickBooks/*", "/cygdrive/E/shares/QuickBooks/company.qbw", true},
		{"*/QuickBooks/*", "/cygdrive/E/shares/quickbooks/sub/dir/company.qbw", true},
		{"*/QuickBooks/*", "/cygdrive/E/shares/QuickBooksX/company.qbw", false},
		{"/cygdrive/E/shares/Finance/locked.qbw", "/cygdrive/E/shares/Finance/locked.qbw", true},
		{"/cygdrive/E/shares/Finance/locked.qbw", "/cygdrive/e/SHARES/finance/LOCKED.QBW", true},
		{"/cygdrive/E/shares/Finance/locked.qbw", "/cygdrive/E/shares/Finance/locked.qbw2", false},
		{"/cygdrive/E/shares/Finance/locked.qbw", "x/cygdrive/E/shares/Finance/locked.qbw", false},
		{"file?.txt", "file1.txt", true},
		{"file?.txt", "file.txt", false},
		{"file?.txt", "fileé.txt", true},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"", "", true},
		{"", "a", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"**a", "bba", true},
		{"BÜRO/*", "büro/x", true},
		{"straße", "STRASSE", false}, // simple folding only
		{`C:\x`, `c:\X`, true},
		{"[ab]", "a", false}, // no character classes: '[' is literal
		{"[ab]", "[AB]", true},
		{"a\xffb", "a\xffb", true},
		{"a\xfeb", "a\xffb", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.path); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		Match("*/quickbooks/*.QBW", "/cygdrive/E/shares/QuickBooks/Company Files/company.qbw")
	})
	if n != 0 {
		t.Errorf("Match allocated %v times, want 0", n)
	}
}

func TestMatchWorstCaseIsBounded(t *testing.T) {
	// Many stars against a long path must stay polynomial, not exponential.
	pattern := strings.Repeat("*a", 50) + "b"
	path := strings.Repeat("a", 4096)
	if Match(pattern, path) {
		t.Error("Match of a pattern ending in b against a's matched")
	}
}

func TestVerdict(t *testing.T) {
	open := FileError{Kind: KindOpenFailed, Path: "/a.pst"}
	openExcepted := FileError{Kind: KindOpenFailed, Path: "/a.pst", Excepted: true}
	vanished := FileError{Kind: KindVanished, Path: "/t.tmp"}
	tests := []struct {
		name string
		code int
		errs []FileError
		want Status
	}{
		{"code 0 is ok", 0, nil, StatusOK},
		{"code 24 is ok", 24, []FileError{vanished}, StatusOK},
		{"code 24 stays ok even with other errors", 24, []FileError{open}, StatusOK},
		{"code 23 with an error not excepted fails", 23, []FileError{openExcepted, open}, StatusFailed},
		{"code 23 with every error excepted is ok", 23, []FileError{openExcepted, vanished}, StatusOK},
		{"code 23 with only vanished files fails: its cause was not recognised", 23, []FileError{vanished}, StatusFailed},
		{"code 23 with no file errors fails", 23, nil, StatusFailed},
		{"code -2 fails", CodeMissing, nil, StatusFailed},
		{"code 12 fails", 12, nil, StatusFailed},
		{"code 255 fails even with excepted errors", 255, []FileError{openExcepted}, StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verdict(tt.code, tt.errs); got != tt.want {
				t.Errorf("Verdict(%d, %+v) = %q, want %q", tt.code, tt.errs, got, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	r := mustParse(t, "sending incremental file list\n"+
		`rsync: send_files failed to open "/E/Mail/outlook.pst": Permission denied (13)`+"\n"+
		`rsync: send_files failed to open "/E/QuickBooks/co.qbw": Permission denied (13)`+"\n"+
		`file has vanished: "/E/tmp/x.tmp"`+"\n"+totalLine+code23)
	if r.Status != StatusFailed {
		t.Fatalf("without exceptions: status %q, want failed", r.Status)
	}
	r.Apply([]string{"*.pst"})
	if r.Status != StatusFailed || !r.FileErrors[0].Excepted || r.FileErrors[0].Exception != "*.pst" || r.FileErrors[1].Excepted {
		t.Errorf("with *.pst: status %q errors %+v", r.Status, r.FileErrors)
	}
	r.Apply([]string{"*.qbw", "*.pst", "*"})
	if r.Status != StatusOK || r.FileErrors[0].Exception != "*.pst" || r.FileErrors[1].Exception != "*.qbw" {
		t.Errorf("with *.qbw, *.pst, *: status %q errors %+v; want ok and the first matching pattern", r.Status, r.FileErrors)
	}
	r.Apply(nil)
	if r.Status != StatusFailed || r.FileErrors[0].Excepted || r.FileErrors[0].Exception != "" {
		t.Errorf("Apply(nil) after exceptions: status %q errors %+v; want failed and nothing excepted", r.Status, r.FileErrors)
	}
	n := testing.AllocsPerRun(100, func() { r.Apply([]string{"*.qbw", "*.pst"}) })
	if n != 0 {
		t.Errorf("Apply allocated %v times, want 0", n)
	}
}

func TestCodes(t *testing.T) {
	codes := Codes()
	want := []int{-2, 0, 1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 24, 25, 30, 35, 124, 125, 126, 127, 255}
	have := map[int]bool{}
	for i, c := range codes {
		have[c.Code] = true
		if i > 0 && codes[i-1].Code >= c.Code {
			t.Errorf("Codes() not sorted at %d", c.Code)
		}
		if c.Name == "" || c.Meaning == "" || c.Action == "" {
			t.Errorf("code %d has an empty text: %+v", c.Code, c)
		}
		if got := LookupCode(c.Code); got != c {
			t.Errorf("LookupCode(%d) = %+v, want %+v", c.Code, got, c)
		}
	}
	for _, c := range want {
		if !have[c] {
			t.Errorf("code %d missing from the table", c)
		}
	}
	codes[0].Name = "changed"
	if Codes()[0].Name == "changed" {
		t.Error("Codes() returned the table itself, not a copy")
	}
	u := LookupCode(77)
	if u.Code != 77 || u.Name != "unknown code" || !strings.Contains(u.Meaning, "77") || !strings.Contains(u.Action, "77") {
		t.Errorf("LookupCode(77) = %+v; want an unknown-code entry naming 77", u)
	}
}
