package parser

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestNewBaseline(t *testing.T) {
	busy := Night{TotalSize: 100, SentBytes: 10, FilesListed: 5, Deletions: 1}
	idle := Night{TotalSize: 100, SentBytes: 2}
	for _, c := range []struct {
		name   string
		nights []Night
		want   *Baseline
	}{
		{"no nights: no baseline", nil, nil},
		{"one night is its own median", []Night{busy}, &Baseline{Nights: 1, TotalSize: 100, SentBytes: 10, FilesListed: 5, Deletions: 1, Changed: 1}},
		{"the lower middle of an even count", []Night{
			{TotalSize: 40}, {TotalSize: 10}, {TotalSize: 30}, {TotalSize: 20},
		}, &Baseline{Nights: 4, TotalSize: 20, Quiet: 4}},
		{"quiet counts the most recent nights that changed nothing", []Night{busy, idle, busy, idle, idle},
			&Baseline{Nights: 5, TotalSize: 100, SentBytes: 2, Changed: 2, Quiet: 2}},
		{"only the last two weeks count", append(repeat(Night{TotalSize: 1}, 20), repeat(busy, BaselineWindow)...),
			&Baseline{Nights: BaselineWindow, TotalSize: 100, SentBytes: 10, FilesListed: 5, Deletions: 1, Changed: BaselineWindow}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := NewBaseline(c.nights)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("NewBaseline = %+v, want %+v", got, c.want)
			}
		})
	}
}

func repeat(n Night, count int) []Night {
	out := make([]Night, count)
	for i := range out {
		out[i] = n
	}
	return out
}

// synthLog writes the rsync -v output of a night: files sent, files deleted
// and the summary, as rsync 3.2 prints them.
func synthLog(n Night) string {
	var b strings.Builder
	b.WriteString("sending incremental file list\n")
	for i := range n.Deletions {
		fmt.Fprintf(&b, "deleting cygdrive/E/shares/old/file%05d.doc\n", i)
	}
	for i := range n.FilesListed {
		fmt.Fprintf(&b, "cygdrive/E/shares/docs/file%05d.xlsx\n", i)
	}
	fmt.Fprintf(&b, "\nsent %d bytes  received %d bytes  %d.00 bytes/sec\n", n.SentBytes, 1000+n.FilesListed*40, n.SentBytes/60+1)
	fmt.Fprintf(&b, "total size is %d  speedup is 1.00\n", n.TotalSize)
	return b.String()
}

// parseNight parses the synthetic log of n and judges it against the
// nights before it.
func parseNight(t *testing.T, n Night, before []Night, th *Thresholds) *Result {
	t.Helper()
	r, err := Parse(strings.NewReader(synthLog(n)))
	if err != nil {
		t.Fatal(err)
	}
	Judge(r, Facts{Baseline: NewBaseline(before), Thresholds: th}, nil)
	got := Night{TotalSize: r.TotalSize, SentBytes: r.SentBytes, FilesListed: r.FilesListed, Deletions: r.Deletions}
	if got != n {
		t.Fatalf("the synthetic log parsed as %+v, want %+v", got, n)
	}
	return r
}

// month is a file server's ordinary month: 400 GiB growing slowly, a few
// hundred files and up to 600 MiB changed on weekdays, little at weekends
// (both weekend days quiet now and then), a few deletions, and one
// clean-up night with many. It raises no warning.
func month() []Night {
	rng := rand.New(rand.NewPCG(7, 11))
	size := int64(400 << 30)
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var out []Night
	for d := range 31 {
		size += rng.Int64N(600 << 20)
		n := Night{TotalSize: size}
		switch start.AddDate(0, 0, d).Weekday() {
		case time.Saturday, time.Sunday:
			if rng.IntN(3) > 0 {
				n.FilesListed = rng.IntN(6)
			}
		default:
			n.FilesListed = 50 + rng.IntN(400)
			n.Deletions = rng.IntN(40)
		}
		n.SentBytes = 20_000 + int64(n.FilesListed)*(int64(rng.IntN(1500))<<10)
		if d == 17 { // a clean-up: 600 old files deleted among 4,000 touched
			n.FilesListed, n.Deletions = 4000, 600
		}
		out = append(out, n)
	}
	return out
}

func TestOrdinaryMonthRaisesNoWarning(t *testing.T) {
	nights := month()
	for i, n := range nights {
		r := parseNight(t, n, nights[:i], nil)
		if len(r.Warnings) != 0 {
			t.Errorf("night %d (%+v, baseline %+v): %+v, want no warning", i, n, NewBaseline(nights[:i]), r.Warnings)
		}
	}
}

// TestStatisticalWarnings puts one odd night after the ordinary month.
func TestStatisticalWarnings(t *testing.T) {
	nights := month()
	last := nights[len(nights)-1]
	b := NewBaseline(nights)
	weekday := Night{TotalSize: last.TotalSize, SentBytes: b.SentBytes, FilesListed: 200, Deletions: 10}
	quiet := Night{TotalSize: last.TotalSize, SentBytes: 900}
	quietTail := append(append([]Night{}, nights...), weekday, quiet, quiet)
	for _, c := range []struct {
		name    string
		history []Night
		night   Night
		th      *Thresholds
		want    []WarningKind
		number  string
		value   int64
	}{
		{"an ordinary weekday", nights, weekday, nil, nil, "", 0},
		{"a share wiped: size drop and deletions", nights,
			Night{TotalSize: last.TotalSize / 3, SentBytes: 30_000, FilesListed: 10, Deletions: 5000}, nil,
			[]WarningKind{WarningDeletionSpike, WarningSizeDrop}, "median_total_size", b.TotalSize},
		{"a share encrypted: change spike", nights,
			Night{TotalSize: last.TotalSize, SentBytes: 40 * b.SentBytes, FilesListed: 20000}, nil,
			[]WarningKind{WarningChangeSpike}, "median_sent_bytes", b.SentBytes},
		{"the third quiet night in a row: frozen source", quietTail,
			quiet, nil,
			[]WarningKind{WarningFrozenSource}, "quiet_nights", 3},
		{"the second quiet night is a weekend", quietTail[:len(quietTail)-1], quiet, nil, nil, "", 0},
		{"deletions under the count but over the share", nights,
			Night{TotalSize: last.TotalSize, SentBytes: b.SentBytes, FilesListed: 300, Deletions: 400}, nil,
			[]WarningKind{WarningDeletionSpike}, "deletions", 400},
		{"a new server has no normal yet", nights[:DefaultThresholds.MinNights-1],
			Night{TotalSize: 1, SentBytes: 1 << 40, FilesListed: 1, Deletions: 5000}, nil, nil, "", 0},
		{"tighter thresholds warn sooner", nights,
			Night{TotalSize: b.TotalSize * 8 / 10, SentBytes: b.SentBytes, FilesListed: 100}, &Thresholds{MinNights: 7, SizeDropPercent: 10, SpikeFactor: 10, FrozenNights: 3},
			[]WarningKind{WarningSizeDrop}, "total_size", b.TotalSize * 8 / 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := parseNight(t, c.night, c.history, c.th)
			var got []WarningKind
			for _, w := range r.Warnings {
				got = append(got, w.Kind)
				if w.Message == "" {
					t.Errorf("%s has no message", w.Kind)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("warnings %v, want %v: %+v", got, c.want, r.Warnings)
			}
			if c.number != "" && r.Warnings[len(r.Warnings)-1].Numbers[c.number] != c.value {
				t.Errorf("numbers[%s] = %d, want %d", c.number, r.Warnings[len(r.Warnings)-1].Numbers[c.number], c.value)
			}
			if r.Status != StatusOK {
				t.Errorf("status %s, want ok: warnings never change the verdict", r.Status)
			}
		})
	}
}

func TestBytesText(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536 << 20: "1.5 GiB", 3 << 40: "3.0 TiB"} {
		if got := bytesText(n); got != want {
			t.Errorf("bytesText(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWarningTexts(t *testing.T) {
	var zero WarningTable
	for _, w := range zero.All() {
		if w.Name == "" || w.Meaning == "" || w.Action == "" || !KnownWarning(w.Kind) {
			t.Errorf("%s: incomplete text %+v", w.Kind, w)
		}
	}
	mine := WarningInfo{Kind: WarningSizeDrop, Name: "smaller", Meaning: "m", Action: "a"}
	tab := NewWarningTable(map[WarningKind]WarningInfo{WarningSizeDrop: mine})
	if got := tab.Lookup(WarningSizeDrop); got != mine {
		t.Errorf("edited text: got %+v", got)
	}
	if got := tab.Lookup("from_the_future"); got.Name != "from_the_future" || got.Action == "" {
		t.Errorf("unknown kind: got %+v", got)
	}
}
