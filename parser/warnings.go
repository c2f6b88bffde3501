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

// The kinds of warning Judge gives from the log compared with its server's
// normal (Facts.Baseline); none without a baseline of at least
// Thresholds.MinNights nights.
const (
	// WarningDeletionSpike: far more deletions than the server's normal,
	// and many of them (what a wiped or moved share looks like).
	WarningDeletionSpike WarningKind = "deletion_spike"
	// WarningSizeDrop: the total size fell well below the server's median
	// (a share emptied, a disk not mounted).
	WarningSizeDrop WarningKind = "size_drop"
	// WarningChangeSpike: many times the usual bytes sent (what a share
	// being encrypted by ransomware looks like).
	WarningChangeSpike WarningKind = "change_spike"
	// WarningFrozenSource: nothing sent or deleted for several nights on a
	// server that usually changes (a source folder no longer updated, a
	// backup of the wrong disk).
	WarningFrozenSource WarningKind = "frozen_source"
)

// WarningKinds lists every kind, in the order Judge gives them.
var WarningKinds = []WarningKind{WarningMassDeletion, WarningDeletionSpike, WarningSizeDrop, WarningChangeSpike, WarningFrozenSource}

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

// warn sets r.Warnings from the log's own figures and, given a baseline,
// from its server's normal (see the kinds). Exceptions play no part: an
// excepted opendir failure still deleted the folder's backup, so an
// exception never silences a mass-deletion warning.
func (r *Result) warn(b *Baseline, t *Thresholds) {
	r.Warnings = noWarnings
	if r.DeletedUnreadable > 0 {
		r.Warnings = append(r.Warnings, Warning{
			Kind: WarningMassDeletion,
			Message: fmt.Sprintf("%d of %d deletions were under a directory rsync could not read in the same run",
				r.DeletedUnreadable, r.Deletions),
			Numbers: map[string]int64{
				"deleted_unreadable": int64(r.DeletedUnreadable),
				"deletions":          int64(r.Deletions),
				"files_listed":       int64(r.FilesListed),
			},
		})
	}
	if t == nil {
		t = &DefaultThresholds
	}
	if b == nil || b.Nights < max(t.MinNights, 1) || r.DryRun {
		return
	}
	if d := int64(r.Deletions); d >= int64(t.DeletionMin) && d > int64(t.SpikeFactor)*int64(b.Deletions) &&
		(d >= int64(t.DeletionCount) || d*100 >= int64(t.DeletionPercent)*(int64(r.FilesListed)+d)) {
		r.Warnings = append(r.Warnings, Warning{
			Kind: WarningDeletionSpike,
			Message: fmt.Sprintf("%d files deleted from the backup; this server usually deletes %d a night (median of %d nights)",
				d, b.Deletions, b.Nights),
			Numbers: map[string]int64{"deletions": d, "files_listed": int64(r.FilesListed), "median_deletions": int64(b.Deletions), "baseline_nights": int64(b.Nights)},
		})
	}
	if r.Complete && b.TotalSize > 0 && r.TotalSize*100 < b.TotalSize*int64(100-t.SizeDropPercent) {
		r.Warnings = append(r.Warnings, Warning{
			Kind: WarningSizeDrop,
			Message: fmt.Sprintf("total size %s is %d%% below this server's median of %s (%d nights)",
				bytesText(r.TotalSize), 100-r.TotalSize*100/b.TotalSize, bytesText(b.TotalSize), b.Nights),
			Numbers: map[string]int64{"total_size": r.TotalSize, "median_total_size": b.TotalSize, "baseline_nights": int64(b.Nights)},
		})
	}
	if r.SentBytes > int64(t.SpikeFactor)*b.SentBytes && r.SentBytes-b.SentBytes >= t.SpikeMinBytes {
		times := "many"
		if b.SentBytes > 0 {
			times = fmt.Sprintf("%d", r.SentBytes/b.SentBytes)
		}
		r.Warnings = append(r.Warnings, Warning{
			Kind: WarningChangeSpike,
			Message: fmt.Sprintf("%s sent, %s times this server's median of %s (%d nights)",
				bytesText(r.SentBytes), times, bytesText(b.SentBytes), b.Nights),
			Numbers: map[string]int64{"sent_bytes": r.SentBytes, "median_sent_bytes": b.SentBytes, "baseline_nights": int64(b.Nights)},
		})
	}
	quiet := r.FilesListed == 0 && r.Deletions == 0
	if r.Complete && quiet && b.Quiet+1 >= t.FrozenNights && b.Changed*2 > b.Nights {
		r.Warnings = append(r.Warnings, Warning{
			Kind: WarningFrozenSource,
			Message: fmt.Sprintf("nothing sent or deleted for %d nights in a row; this server changed on %d of its last %d nights",
				b.Quiet+1, b.Changed, b.Nights),
			Numbers: map[string]int64{"quiet_nights": int64(b.Quiet + 1), "changed_nights": int64(b.Changed), "baseline_nights": int64(b.Nights)},
		})
	}
}

// bytesText writes a byte count for people, in binary units.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
