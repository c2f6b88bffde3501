// Package parser turns the output of an rsync run (a customer's stats.out)
// into a verdict: the final exit code, the per-file errors, the summary
// numbers and whether the night counts as ok or failed.
//
// It reads an io.Reader synchronously, line by line, and never holds the
// whole input: the SSH session that carries the upload is the reader. It
// knows rsync, not SSH or SQL, and imports no other package of the project.
package parser

// Status is the verdict of one night: ok or failed for a run that was
// judged (Judge gives no other), missing for a night whose report never
// came. Stored, shown and printed as these words, which are a contract
// (JSON, CSV, the command line).
type Status string

// The statuses of a night.
const (
	StatusOK     Status = "ok"
	StatusFailed Status = "failed"
	// StatusMissing is recorded by the missing-report check, never by
	// Judge.
	StatusMissing Status = "missing"
)

// Order is where a status comes in lists staff read: failures first, then
// missing nights, then the rest.
func (s Status) Order() int {
	switch s {
	case StatusFailed:
		return 0
	case StatusMissing:
		return 1
	}
	return 2
}

// CodeMissing is the made-up code for a run that left no exit code and did
// not complete (killed, still running, cut off). rsync never returns it.
const CodeMissing = -2

// Kind names the sort of a per-file problem.
type Kind string

// The kinds of per-file problem the parser recognises.
const (
	KindOpenFailed   Kind = "open_failed"   // send_files failed to open
	KindReadError    Kind = "read_error"    // read errors mapping
	KindVanished     Kind = "vanished"      // file/directory has vanished (never counts against the verdict)
	KindOpendir      Kind = "opendir"       // opendir failed
	KindLinkStat     Kind = "link_stat"     // link_stat / readlink_stat failed
	KindChangeDir    Kind = "change_dir"    // change_dir failed
	KindDelete       Kind = "delete"        // delete_file unlink failed
	KindDirNotEmpty  Kind = "dir_not_empty" // cannot delete non-empty directory
	KindSetTimes     Kind = "set_times"     // failed to set times
	KindSetPerms     Kind = "set_perms"     // failed to set permissions
	KindMkstemp      Kind = "mkstemp"       // mkstemp failed
	KindRename       Kind = "rename"        // rename failed
	KindMkdir        Kind = "mkdir"         // recv_generator mkdir failed
	KindVerification Kind = "verification"  // failed verification
	KindWriteFailed  Kind = "write_failed"  // write failed on a file
	// KindOther is an "rsync: ..." line that names a quoted path and ends
	// in an errno, but whose wording the parser does not know. It counts
	// against the verdict like any other file error, so that a new or
	// unfamiliar message cannot turn a failed night into an ok one.
	KindOther Kind = "other"
)

// FileError is one per-file problem reported by rsync.
type FileError struct {
	Line      int    `json:"line"`    // 1-based line number in the upload
	Kind      Kind   `json:"kind"`    // what went wrong
	Path      string `json:"path"`    // the path as rsync printed it, quotes removed, \#ooo escapes decoded
	Message   string `json:"message"` // the whole line, trimmed, at most MaxMessageLen bytes
	Excepted  bool   `json:"excepted"`
	Exception string `json:"exception,omitempty"` // the pattern that covered it, if any
}

// Result is everything the parser learned from one upload. The JSON names
// are a contract with users' scripts (see README, "backupreport parse").
type Result struct {
	Code int `json:"code"` // final rsync exit code, or CodeMissing
	// CodeLine is the line of the "rsync error|warning: ... (code N)" line
	// the code came from; 0 when the code was inferred (completion or -2).
	CodeLine      int     `json:"code_line,omitempty"`
	Status        Status  `json:"status"` // verdict after exceptions were applied
	Complete      bool    `json:"complete"`
	RsyncVersion  string  `json:"rsync_version"` // from the final line's [role=version], may be empty
	Role          string  `json:"role"`          // role of the line the code came from
	SentBytes     int64   `json:"sent_bytes"`
	ReceivedBytes int64   `json:"received_bytes"`
	BytesPerSec   float64 `json:"bytes_per_sec"` // 0 when rsync printed UNKNOWN
	TotalSize     int64   `json:"total_size"`
	Speedup       float64 `json:"speedup"`
	DryRun        bool    `json:"dry_run"`
	Lines         int     `json:"lines"`
	FilesListed   int     `json:"files_listed"`
	Deletions     int     `json:"deletions"`
	// DeletedUnreadable counts the deleting lines whose path lies under a
	// directory whose opendir failed earlier in the same run (see
	// MaxUnreadableDirs): backed-up files lost because rsync could not
	// read their folder.
	DeletedUnreadable int    `json:"deleted_unreadable"`
	Bytes             int64  `json:"bytes"`    // bytes read from the input
	Encoding          string `json:"encoding"` // "utf-8" or "utf-16le"

	// LongLines counts the physical lines longer than MaxLineLength, which
	// were read as several pieces.
	LongLines int `json:"long_lines,omitempty"`

	// FileErrors holds the first MaxFileErrors per-file problems, in input
	// order. It is never nil, so the JSON shows [] rather than null.
	FileErrors []FileError `json:"file_errors"`
	// Dropped counts, by kind, the file errors seen after FileErrors was
	// full. Dropped errors other than vanished files make a code-23 run
	// fail, because no exception can be checked against them.
	Dropped map[Kind]int `json:"file_errors_dropped,omitempty"`
	// Warnings are the early warnings Judge gave (see Warning); never
	// nil after Judge, so the JSON shows [] rather than null.
	Warnings []Warning `json:"warnings"`
	// Noise counts the recognised lines that are not rsync's own, by kind
	// ("cygwin_warning", "ssh"), so staff can see what was ignored.
	Noise map[string]int `json:"noise,omitempty"`
}
