package parser

import (
	"fmt"
	"slices"
)

// BaselineWindow is how many of a server's most recent nights make its
// normal: two weeks, enough for a median that one odd night does not move,
// short enough to follow a server that grows.
const BaselineWindow = 14

// Night is what the statistical warnings need of one earlier night of a
// server: the figures of its complete result (one whose completion line
// arrived).
type Night struct {
	TotalSize   int64
	SentBytes   int64
	FilesListed int
	Deletions   int
}

// changed reports whether the night transferred or deleted anything: with
// rsync -v, every file sent and every deletion is a line of the log.
func (n Night) changed() bool { return n.FilesListed > 0 || n.Deletions > 0 }

// Baseline is a server's normal, drawn from its complete nights before the
// one judged. It is a fact about an upload, like End: computed once when
// the upload arrives and stored with it, so that a later judgment (a
// re-evaluation) warns from the same history the upload did.
type Baseline struct {
	// Nights is how many nights the medians were drawn from (at most
	// BaselineWindow).
	Nights int `json:"nights"`
	// The medians of those nights' figures.
	TotalSize   int64 `json:"total_size"`
	SentBytes   int64 `json:"sent_bytes"`
	FilesListed int   `json:"files_listed"`
	Deletions   int   `json:"deletions"`
	// Changed is how many of those nights sent or deleted anything.
	Changed int `json:"changed"`
	// Quiet is how many of the most recent nights in a row changed
	// nothing.
	Quiet int `json:"quiet"`
}

// NewBaseline draws a server's normal from its earlier complete nights,
// oldest first. Only the last BaselineWindow count. It returns nil when
// there are none.
func NewBaseline(nights []Night) *Baseline {
	if len(nights) > BaselineWindow {
		nights = nights[len(nights)-BaselineWindow:]
	}
	if len(nights) == 0 {
		return nil
	}
	b := &Baseline{Nights: len(nights)}
	sizes := make([]int64, 0, len(nights))
	med := func(f func(Night) int64) int64 {
		sizes = sizes[:0]
		for _, n := range nights {
			sizes = append(sizes, f(n))
		}
		return median(sizes)
	}
	b.TotalSize = med(func(n Night) int64 { return n.TotalSize })
	b.SentBytes = med(func(n Night) int64 { return n.SentBytes })
	b.FilesListed = int(med(func(n Night) int64 { return int64(n.FilesListed) }))
	b.Deletions = int(med(func(n Night) int64 { return int64(n.Deletions) }))
	for i, n := range nights {
		if n.changed() {
			b.Changed++
			b.Quiet = len(nights) - 1 - i
		}
	}
	if b.Changed == 0 {
		b.Quiet = len(nights)
	}
	return b
}

// median returns the median of v (the lower middle of an even count, so
// that it is always one of the nights' own figures); v is sorted in place.
func median(v []int64) int64 {
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

// Thresholds say when a night differs enough from its server's normal to
// warn. Staff tune them with serve's and reevaluate's --warn-* flags.
type Thresholds struct {
	// MinNights is how many earlier nights a server needs before it is
	// compared with its normal: a new server has none.
	MinNights int
	// SizeDropPercent: warn when the total size falls below the median
	// by more than this share.
	SizeDropPercent int
	// SpikeFactor: warn when the bytes sent exceed this many times the
	// median, and by at least SpikeMinBytes.
	SpikeFactor   int
	SpikeMinBytes int64
	// FrozenNights: warn when this many nights in a row changed nothing
	// on a server that changed on most of its recent nights.
	FrozenNights int
	// Deletions warn when there are at least DeletionMin, more than
	// SpikeFactor times the median, and either at least DeletionCount or
	// at least DeletionPercent of the files the night listed and
	// deleted.
	DeletionMin     int
	DeletionCount   int
	DeletionPercent int
}

// DefaultThresholds are the thresholds out of the box: loose enough that an
// ordinary month of a file server raises none (see the synthetic month in
// the tests), tight enough to catch a wiped share or an encrypted one.
var DefaultThresholds = Thresholds{
	MinNights:       7,
	SizeDropPercent: 50,
	SpikeFactor:     10,
	SpikeMinBytes:   100 << 20,
	FrozenNights:    3,
	DeletionMin:     100,
	DeletionCount:   1000,
	DeletionPercent: 20,
}

// Check reports thresholds that cannot work: a share outside 0 to 100, a
// factor below 1, a negative count.
func (t Thresholds) Check() error {
	switch {
	case t.MinNights < 1 || t.MinNights > BaselineWindow:
		return fmt.Errorf("min nights %d: want 1 to %d", t.MinNights, BaselineWindow)
	case t.SizeDropPercent < 1 || t.SizeDropPercent > 100:
		return fmt.Errorf("size drop %d%%: want 1 to 100", t.SizeDropPercent)
	case t.SpikeFactor < 1:
		return fmt.Errorf("spike factor %d: want 1 or more", t.SpikeFactor)
	case t.SpikeMinBytes < 0 || t.DeletionMin < 0 || t.DeletionCount < 0:
		return fmt.Errorf("negative count")
	case t.FrozenNights < 1 || t.FrozenNights > BaselineWindow:
		return fmt.Errorf("frozen nights %d: want 1 to %d", t.FrozenNights, BaselineWindow)
	case t.DeletionPercent < 0 || t.DeletionPercent > 100:
		return fmt.Errorf("deletion share %d%%: want 0 to 100", t.DeletionPercent)
	}
	return nil
}
