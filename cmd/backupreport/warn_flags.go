package main

import (
	"flag"
	"fmt"

	"github.com/backupreport/backupreport/parser"
)

// warnFlags adds the --warn-* flags that tune the statistical warnings.
// serve and reevaluate share them (and their BACKUPREPORT_WARN_*
// variables), so that a re-evaluation judges as the uploads are judged.
func warnFlags(fs *flag.FlagSet) *parser.Thresholds {
	t := parser.DefaultThresholds
	fs.IntVar(&t.MinNights, "warn-min-nights", t.MinNights, fmt.Sprintf("earlier complete nights a server needs before it is compared with its normal (the median of its last %d)", parser.BaselineWindow))
	fs.IntVar(&t.SizeDropPercent, "warn-size-drop", t.SizeDropPercent, "warn (size_drop) when the total size is this many percent below the server's median")
	fs.IntVar(&t.SpikeFactor, "warn-spike-factor", t.SpikeFactor, "warn (change_spike) when the bytes sent are this many times the server's median (and deletion_spike for deletions)")
	fs.Int64Var(&t.SpikeMinBytes, "warn-spike-min-bytes", t.SpikeMinBytes, "and by at least this many bytes, so small servers do not warn for a few megabytes")
	fs.IntVar(&t.FrozenNights, "warn-frozen-nights", t.FrozenNights, "warn (frozen_source) after this many nights in a row that sent or deleted nothing, on a server that usually changes")
	fs.IntVar(&t.DeletionMin, "warn-deletion-min", t.DeletionMin, "deletions a night needs before deletion_spike is considered")
	fs.IntVar(&t.DeletionCount, "warn-deletion-count", t.DeletionCount, "warn (deletion_spike) from this many deletions in a night, over the server's normal")
	fs.IntVar(&t.DeletionPercent, "warn-deletion-percent", t.DeletionPercent, "or when deletions are this many percent of the files the night listed and deleted")
	return &t
}
