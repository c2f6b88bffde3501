package parser

// End says how an upload ended. Besides the text itself, it is the one
// fact a verdict depends on, so it is stored with the result and handed
// to Judge again whenever the result is judged again.
type End string

// The ways an upload can end.
const (
	// EndComplete is an upload read to its end (EOF sent by the client).
	EndComplete End = "complete"
	// EndInterrupted is an upload whose connection died before EOF.
	EndInterrupted End = "interrupted"
	// EndTooLarge is an upload refused at the size cap; reading stopped
	// there.
	EndTooLarge End = "too_large"
	// EndTimeLimit is an upload refused at the time limit; reading
	// stopped there.
	EndTimeLimit End = "time_limit"
)

// CutOff reports whether the text of the upload may lack its end: the
// connection died, or the server stopped reading.
func (e End) CutOff() bool {
	return e == EndInterrupted || e == EndTooLarge || e == EndTimeLimit
}

// Forced reports whether the end alone fails the night, whatever the text
// says: an upload refused for its size or its duration.
func (e End) Forced() bool { return e == EndTooLarge || e == EndTimeLimit }

// Valid reports whether e is one of the ends above.
func (e End) Valid() bool { return e == EndComplete || e.CutOff() }

// Facts are what is known about an upload besides its text. The zero
// Facts is a complete upload.
type Facts struct {
	End End
	// Baseline is the server's normal when the upload arrived (see
	// NewBaseline); nil gives only the warnings from the log alone.
	Baseline *Baseline
	// Thresholds tune the warnings from the baseline; nil means
	// DefaultThresholds. Unlike the rest, they are not stored: a
	// re-evaluation applies the thresholds of its time.
	Thresholds *Thresholds
}

// Judge gives r its verdict: it is the one place the rules live, and every
// path (upload, storing, re-evaluation, sandbox, `backupreport parse`)
// calls it with the same Result (from Parse), the same Facts and the
// same patterns, so that it gives the same answer. It may be called again
// with other patterns: it replaces what an earlier call set, and calling
// it twice with the same arguments changes nothing. The rules:
//
//   - Exceptions: every file error is matched against patterns, in order
//     (see Match: the whole path, ignoring case); the first that matches
//     is recorded in Excepted and Exception.
//   - Code: the code Parse found, except that an upload cut off (see
//     End.CutOff) before rsync's final "(code N)" line arrived has
//     CodeMissing: a completion line alone does not prove the run ended
//     there. An upload cut off after that line keeps code N and is judged
//     by it like a whole one: the line is rsync's last word on the run.
//   - Status: failed when the end forces it (End.Forced); else by Verdict
//     (codes 0 and 24 ok; 23 ok only when every file error that is not a
//     vanished file is excepted and there is one), made stricter by file
//     errors dropped because FileErrors was full: they cannot be excepted.
//   - Warnings: beside the status, never changing it, from the log's own
//     figures and from the server's normal (Facts.Baseline, tuned by
//     Facts.Thresholds; see WarningKind); exceptions do not silence them.
//
// Judge does not allocate unless it gives a warning.
func Judge(r *Result, f Facts, patterns []string) {
	for i := range r.FileErrors {
		fe := &r.FileErrors[i]
		fe.Excepted, fe.Exception = false, ""
		for _, p := range patterns {
			if Match(p, fe.Path) {
				fe.Excepted, fe.Exception = true, p
				break
			}
		}
	}
	judge(r, f)
}

// judge settles the code and the status of r from its file errors as they
// are marked.
func judge(r *Result, f Facts) {
	r.warn(f.Baseline, f.Thresholds)
	if f.End.CutOff() && r.CodeLine == 0 {
		r.Code = CodeMissing
	}
	if f.End.Forced() {
		r.Status = StatusFailed
		return
	}
	r.Status = r.verdict()
}

// Apply is Judge for a complete upload: it matches the file errors
// against patterns and sets Status.
func (r *Result) Apply(patterns []string) { Judge(r, Facts{}, patterns) }

// NonVanishedDropped returns how many dropped file errors (see
// Result.Dropped) are not vanished files: those make a code-23 run fail.
func (r *Result) NonVanishedDropped() int {
	n := 0
	for k, c := range r.Dropped {
		if k != KindVanished {
			n += c
		}
	}
	return n
}
