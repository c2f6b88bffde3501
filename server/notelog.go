package server

import (
	"log/slog"
	"sync"
	"time"
)

// noteLog logs events that a flood could repeat thousands of times a
// second (dropped connections, accept errors) without flooding the log:
// the first event of a kind is logged at once, later ones of the same kind
// within the interval are only counted, and the next one after it is
// logged with how many were left out. The metrics count every event. Its
// state is one entry per kind, a fixed set.
type noteLog struct {
	log      *slog.Logger
	interval time.Duration

	mu    sync.Mutex
	kinds map[string]*noteState
}

type noteState struct {
	last    time.Time
	skipped int
}

// noteInterval is how often at most one kind of event is logged.
const noteInterval = 10 * time.Second

func newNoteLog(log *slog.Logger) *noteLog {
	return &noteLog{log: log, interval: noteInterval, kinds: map[string]*noteState{}}
}

// note logs msg with args at info level, or counts it when a line of the
// same kind was logged within the interval.
func (n *noteLog) note(kind, msg string, args ...any) {
	n.mu.Lock()
	st := n.kinds[kind]
	if st == nil {
		st = &noteState{}
		n.kinds[kind] = st
	}
	now := time.Now()
	if !st.last.IsZero() && now.Sub(st.last) < n.interval {
		st.skipped++
		n.mu.Unlock()
		return
	}
	skipped := st.skipped
	st.last, st.skipped = now, 0
	n.mu.Unlock()
	if skipped > 0 {
		args = append(args, "similar_since_last_line", skipped)
	}
	n.log.Info(msg, args...)
}
