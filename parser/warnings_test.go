package parser

import (
	"strings"
	"testing"
)

func TestMassDeletionWarning(t *testing.T) {
	const unreadable = "sending incremental file list\n" +
		"rsync: [sender] opendir \"/data/src/Projects/proj2\" failed: Permission denied (13)\n" +
		"deleting data/src/Projects/proj2/a.txt\n" +
		"deleting data/src/Projects/proj2/sub/\n" +
		"deleting data/src/Projects/proj20/other.txt\n" +
		"deleting data/src/Old/stale.txt\n" +
		"\nsent 10 bytes  received 20 bytes  60.00 bytes/sec\ntotal size is 9  speedup is 0.30\n" +
		"rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]\n"
	tests := []struct {
		name       string
		in         string
		exceptions []string
		want       int // deletions under the unreadable directory; 0: no warning
	}{
		{"deletions under an unreadable directory warn, a sibling with a longer name does not count", unreadable, nil, 2},
		{"an exception for the unreadable directory does not silence the warning", unreadable, []string{"/data/src/Projects/proj2"}, 2},
		{"ordinary deletions without an opendir failure do not warn",
			"sending incremental file list\ndeleting data/src/Old/stale.txt\n\nsent 1 bytes  received 2 bytes  6.00 bytes/sec\ntotal size is 9  speedup is 3.00\n", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			r.Apply(tt.exceptions)
			if r.DeletedUnreadable != tt.want {
				t.Errorf("DeletedUnreadable = %d, want %d", r.DeletedUnreadable, tt.want)
			}
			if r.Warnings == nil {
				t.Fatal("Warnings is nil, want a list")
			}
			if tt.want == 0 {
				if len(r.Warnings) != 0 {
					t.Errorf("Warnings = %+v, want none", r.Warnings)
				}
				return
			}
			if len(r.Warnings) != 1 || r.Warnings[0].Kind != WarningMassDeletion {
				t.Fatalf("Warnings = %+v, want one mass_deletion", r.Warnings)
			}
			if got := r.Warnings[0].Numbers["deleted_unreadable"]; got != int64(tt.want) {
				t.Errorf("numbers.deleted_unreadable = %d, want %d", got, tt.want)
			}
			if len(tt.exceptions) > 0 && r.Status != StatusOK {
				t.Errorf("status %q with the opendir excepted, want ok: the warning stands beside the verdict", r.Status)
			}
		})
	}
}
