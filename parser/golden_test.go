package parser

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden verdicts under testdata/rsync")

// goldenDir holds one directory per case: stats.out (the input),
// verdict.golden.json (the expected Result), and optionally exceptions
// (patterns, one a line) to Apply, and exit-status (rsync's real status,
// for the cases the generator made).
const goldenDir = "../testdata/rsync"

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "*", "stats.out"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases under %s (err %v)", goldenDir, err)
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			f, err := os.Open(in)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := Parse(f)
			if err != nil {
				t.Fatalf("Parse(%s): %v", in, err)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "exceptions")); err == nil {
				res.Apply(strings.Fields(string(b)))
			}
			got, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join(dir, "verdict.golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./parser -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Parse(%s) differs from %s (run go test ./parser -update and review the diff):\ngot:\n%s", in, golden, got)
			}
			// The real runs also tell the true exit status: the parsed
			// code must agree, except for a killed client (137), where no
			// code, or only the orphaned remote side's, was written.
			if b, err := os.ReadFile(filepath.Join(dir, "exit-status")); err == nil {
				status := strings.TrimSpace(string(b))
				switch status {
				case "137":
					if res.Status != StatusFailed {
						t.Errorf("killed run: status %q, want failed", res.Status)
					}
				default:
					if got := jsonInt(res.Code); got != status {
						t.Errorf("code %s, rsync exited with %s", got, status)
					}
				}
			}
		})
	}
}

func jsonInt(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
