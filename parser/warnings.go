package parser

import "fmt"

// WarningKind names the sort of an early warning. The words are a contract
// (JSON, the command line, the README's "Warnings" section).
type WarningKind string

// The kinds of warning Judge gives from the log alone.
const (
	// WarningMassDeletion: rsync deleted backed-up files under a directory
	// it could not read in the same run (--delete --ignore-errors on an
	// unreadable folder empties that folder's backup).
	WarningMassDeletion WarningKind = "mass_deletion"
)

// Warning is an early warning: a sign that a night may have lost data
// although its verdict may say ok. It stands beside the verdict and never
// changes it. Numbers holds the figures the warning is based on, by name.
type Warning struct {
	Kind    WarningKind      `json:"kind"`
	Message string           `json:"message"`
	Numbers map[string]int64 `json:"numbers"`
}

// noWarnings is the empty list Judge gives when nothing is wrong: it has
// no capacity, so an append never writes into it, and it keeps Judge
// free of allocations on ordinary nights while the JSON shows [].
var noWarnings = []Warning{}

// warn sets r.Warnings from the log's own figures. Exceptions play no part:
// an excepted opendir failure still deleted the folder's backup, so an
// exception never silences a mass-deletion warning.
func (r *Result) warn() {
	r.Warnings = noWarnings
	if r.DeletedUnreadable > 0 {
		r.Warnings = []Warning{{
			Kind: WarningMassDeletion,
			Message: fmt.Sprintf("%d of %d deletions were under a directory rsync could not read in the same run",
				r.DeletedUnreadable, r.Deletions),
			Numbers: map[string]int64{
				"deleted_unreadable": int64(r.DeletedUnreadable),
				"deletions":          int64(r.Deletions),
				"files_listed":       int64(r.FilesListed),
			},
		}}
	}
}
