package parser

import (
	"strings"
	"testing"
)

// TestJudge is the rule book: one row per rule, each with the end of the
// upload and the patterns in force.
func TestJudge(t *testing.T) {
	const (
		locked  = "rsync: send_files failed to open \"/data/Mail/archive.pst\": Permission denied (13)\n"
		summary = "sent 10 bytes  received 20 bytes  60.00 bytes/sec\ntotal size is 100  speedup is 3.33\n"
		code23  = "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n"
		code24  = "rsync warning: some files vanished before they could be transferred (code 24) at main.c(1338) [sender=3.2.7]\n"
		noRole  = "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(977)\n"
	)
	for _, c := range []struct {
		name       string
		log        string
		end        End
		patterns   []string
		wantCode   int
		wantStatus Status
	}{
		{"a whole upload of code 0 is ok", summary, EndComplete, nil, 0, StatusOK},
		{"the zero end is a whole upload", summary, "", nil, 0, StatusOK},
		{"a code 23 covered by an exception, in any case, is ok", locked + summary + code23, EndComplete, []string{"*/mail/ARCHIVE.pst"}, 23, StatusOK},
		{"a code 23 not covered is failed", locked + summary + code23, EndComplete, []string{"*.qbw"}, 23, StatusFailed},
		{"cut off before the code line: -2 even after the summary", locked + summary, EndInterrupted, []string{"*.pst"}, CodeMissing, StatusFailed},
		{"cut off after the code line: judged by it", locked + summary + code23, EndInterrupted, []string{"*.pst"}, 23, StatusOK},
		{"cut off after a code line without role: judged by it", locked + summary + noRole, EndInterrupted, []string{"*.pst"}, 23, StatusOK},
		{"cut off after a code 24: ok", summary + code24, EndInterrupted, nil, 24, StatusOK},
		{"over the size cap: failed whatever the code", summary + code24, EndTooLarge, nil, 24, StatusFailed},
		{"over the time limit: failed, -2 without a code line", summary, EndTimeLimit, nil, CodeMissing, StatusFailed},
		{"over the size cap with everything excepted: failed", locked + summary + code23, EndTooLarge, []string{"*"}, 23, StatusFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Parse(strings.NewReader(c.log))
			if err != nil {
				t.Fatal(err)
			}
			Judge(r, Facts{End: c.end}, c.patterns)
			if r.Code != c.wantCode || r.Status != c.wantStatus {
				t.Errorf("got code %d %s, want code %d %s", r.Code, r.Status, c.wantCode, c.wantStatus)
			}
			// Judging again with the same facts changes nothing.
			code, status := r.Code, r.Status
			Judge(r, Facts{End: c.end}, c.patterns)
			if r.Code != code || r.Status != status {
				t.Errorf("judged twice: code %d %s, then %d %s", code, status, r.Code, r.Status)
			}
		})
	}
}

func TestJudgeDroppedErrorsFailACode23(t *testing.T) {
	r := &Result{Code: 23, CodeLine: 9, FileErrors: []FileError{{Kind: KindOpenFailed, Path: "/a.pst"}}, Dropped: map[Kind]int{KindOpenFailed: 1}}
	Judge(r, Facts{}, []string{"*.pst"})
	if r.Status != StatusFailed {
		t.Errorf("a dropped error that no exception can check: %s, want failed", r.Status)
	}
	r.Dropped = map[Kind]int{KindVanished: 5}
	Judge(r, Facts{}, []string{"*.pst"})
	if r.Status != StatusOK {
		t.Errorf("only vanished files dropped: %s, want ok", r.Status)
	}
}

func TestCodeTableLookupNeverMisses(t *testing.T) {
	edited := CodeInfo{Code: 23, Name: "partial", Meaning: "m", Action: "a"}
	table := NewCodeTable(map[int]CodeInfo{23: edited})
	if got := table.Lookup(23); got != edited {
		t.Errorf("Lookup(23) = %+v, want staff's %+v", got, edited)
	}
	if got := table.Lookup(24); got != LookupCode(24) {
		t.Errorf("Lookup(24) = %+v, want the built-in entry", got)
	}
	if got := (CodeTable{}).Lookup(77); got.Code != 77 || got.Name != "unknown code" || !strings.Contains(got.Meaning, "77") {
		t.Errorf("Lookup(77) on the zero table = %+v, want an unknown-code entry naming 77", got)
	}
}
