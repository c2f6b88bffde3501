package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// Report kinds for FailureReport.
const (
	ReportDaily    = "daily"     // failed or missing within the last 24 hours
	ReportThreeDay = "three-day" // failed or missing on each of the last three nights
)

// streakLookback bounds how many nights back a failure streak is counted.
const streakLookback = 60

// FailureEntry is one server on a failure report, or on the recovered list.
type FailureEntry struct {
	ServerID   int64
	Customer   string
	Server     string
	Status     parser.Status // failed, missing; ok on the recovered list
	Code       int
	ResultID   *int64 // nil for a missing night that was not recorded yet
	ReceivedAt *time.Time
	FileErrors int
	// OnIt is who is on it: the author of the latest claim left since the
	// failure streak began and not resolved since, else the author of the
	// latest note since then; empty when nobody wrote anything.
	OnIt string
	// Nights is the number of consecutive failed-or-missing nights, newest
	// first; on the recovered list, the length of the streak that ended.
	Nights int
	// Errors are the result's failing file errors (not excepted, not
	// vanished), new ones first, at most FailureErrorsShown (errmemory.go).
	Errors []FileErrorRow
	// Warnings are the result's early warnings nobody has acknowledged.
	Warnings []Warning
}

// nightVerdict is how one night of a server went: its last result (by
// received_at), or missing when none came by the night's deadline.
type nightVerdict struct {
	night      Night
	status     parser.Status
	code       int
	resultID   *int64
	receivedAt *time.Time
	fileErrors int
}

func (v nightVerdict) bad() bool { return v.status != parser.StatusOK }

// FailureReport returns the servers of the daily or three-day failure
// report as of now, sorted by customer then server (ignoring case). Only
// active servers of active customers appear.
//
// daily lists the servers whose Status with a 24-hour window is failed or
// missing: the latest result within 24 hours failed, or there is none, or
// it is a recorded missing night. three-day lists the servers whose last
// three known nights all failed or were missing, nights being Night of
// received_at in loc: a night counts when it has a result, or when the
// server expected a report that night (Server.Expected) and its deadline
// (see RecordMissing) has passed; nights before the server was created, and
// the current night while its report may still come, do not count.
func (db *DB) FailureReport(ctx context.Context, kind string, now time.Time, loc *time.Location) ([]FailureEntry, error) {
	if loc == nil {
		loc = time.UTC
	}
	if kind != ReportDaily && kind != ReportThreeDay {
		return nil, fmt.Errorf("failure report: unknown kind %q (want daily or three-day)", kind)
	}
	verdicts, exps, err := db.verdicts(ctx, now, loc)
	if err != nil {
		return nil, fmt.Errorf("%s failure report: %w", kind, err)
	}
	var out []FailureEntry
	if kind == ReportDaily {
		rows, err := db.Status(ctx, now, 24*time.Hour)
		if err != nil {
			return nil, fmt.Errorf("daily failure report: %w", err)
		}
		for _, r := range rows {
			if r.Status == parser.StatusOK {
				continue
			}
			vs := verdicts[r.ServerID]
			e := FailureEntry{ServerID: r.ServerID, Customer: r.Customer, Server: r.Server, Status: r.Status, Code: r.Code,
				ResultID: r.ResultID, ReceivedAt: r.ReceivedAt, FileErrors: r.FileErrors, Nights: max(streak(vs), 1)}
			out = append(out, e)
		}
	} else {
		for _, x := range exps {
			vs := verdicts[x.srv.ID]
			if len(vs) < 3 || !vs[0].bad() || !vs[1].bad() || !vs[2].bad() {
				continue
			}
			v := vs[0]
			out = append(out, FailureEntry{ServerID: x.srv.ID, Customer: x.srv.Customer, Server: x.srv.Name, Status: v.status, Code: v.code,
				ResultID: v.resultID, ReceivedAt: v.receivedAt, FileErrors: v.fileErrors, Nights: streak(vs)})
		}
	}
	for i := range out {
		vs := verdicts[out[i].ServerID]
		if out[i].OnIt, err = db.onIt(ctx, out[i].ServerID, streakStart(vs, loc, now)); err != nil {
			return nil, fmt.Errorf("%s failure report: %w", kind, err)
		}
		if out[i].Errors, err = db.failingErrors(ctx, out[i].ResultID); err != nil {
			return nil, fmt.Errorf("%s failure report: %w", kind, err)
		}
	}
	sortEntries(out)
	return out, nil
}

// Warned returns the servers whose latest result within 24 hours before
// now has early warnings nobody has acknowledged, whatever its verdict:
// the ok night that deleted a folder's backup is exactly what the failure
// lists miss. Warnings holds those warnings. Sorted by customer then
// server.
func (db *DB) Warned(ctx context.Context, now time.Time) ([]FailureEntry, error) {
	rows, err := db.Status(ctx, now, 24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("warned servers: %w", err)
	}
	var out []FailureEntry
	for _, r := range rows {
		open := Unacknowledged(r.Warnings)
		if len(open) == 0 {
			continue
		}
		out = append(out, FailureEntry{ServerID: r.ServerID, Customer: r.Customer, Server: r.Server, Status: r.Status, Code: r.Code,
			ResultID: r.ResultID, ReceivedAt: r.ReceivedAt, FileErrors: r.FileErrors, Warnings: open})
	}
	sortEntries(out)
	return out, nil
}

// Unacknowledged returns the warnings nobody has acknowledged: those the
// nightly report, the e-mails, the webhook and status count.
func Unacknowledged(ws []Warning) []Warning {
	var out []Warning
	for _, w := range ws {
		if !w.Acknowledged() {
			out = append(out, w)
		}
	}
	return out
}

// Recovered returns the servers that failed or were missing on their
// previous night and are ok now: Status with a 24-hour window is ok, their
// latest known night is ok, and the night before it was not. Nights is the
// length of the streak that ended, OnIt who was on it. Sorted by customer
// then server.
func (db *DB) Recovered(ctx context.Context, now time.Time, loc *time.Location) ([]FailureEntry, error) {
	if loc == nil {
		loc = time.UTC
	}
	verdicts, _, err := db.verdicts(ctx, now, loc)
	if err != nil {
		return nil, fmt.Errorf("recovered servers: %w", err)
	}
	rows, err := db.Status(ctx, now, 24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("recovered servers: %w", err)
	}
	var out []FailureEntry
	for _, r := range rows {
		vs := verdicts[r.ServerID]
		if r.Status != parser.StatusOK || len(vs) < 2 || vs[0].bad() || !vs[1].bad() {
			continue
		}
		e := FailureEntry{ServerID: r.ServerID, Customer: r.Customer, Server: r.Server, Status: r.Status, Code: r.Code,
			ResultID: r.ResultID, ReceivedAt: r.ReceivedAt, FileErrors: r.FileErrors, Nights: streak(vs[1:])}
		if e.OnIt, err = db.onIt(ctx, r.ServerID, streakStart(vs[1:], loc, now)); err != nil {
			return nil, fmt.Errorf("recovered servers: %w", err)
		}
		out = append(out, e)
	}
	sortEntries(out)
	return out, nil
}

// streak counts the leading failed-or-missing nights.
func streak(vs []nightVerdict) int {
	n := 0
	for n < len(vs) && vs[n].bad() {
		n++
	}
	return n
}

// streakStart is noon of the oldest night of the leading streak, in loc,
// or 24 hours before now when there is none.
func streakStart(vs []nightVerdict, loc *time.Location, now time.Time) time.Time {
	n := streak(vs)
	if n == 0 {
		return now.Add(-24 * time.Hour)
	}
	return vs[n-1].night.Noon(loc)
}

// verdicts returns, per active server, its known nights newest first, as
// of now and at most streakLookback nights back.
func (db *DB) verdicts(ctx context.Context, now time.Time, loc *time.Location) (map[int64][]nightVerdict, []expectation, error) {
	exps, err := expectations(ctx, db.db, now)
	if err != nil {
		return nil, nil, err
	}
	current := NightOf(now, loc)
	first := current.AddDays(-streakLookback)
	// Every result of a night from first on was received after its noon.
	from := first.Midnight(loc)
	rows, err := db.db.QueryContext(ctx, `SELECT id, server_id, night, status, code, received_at, file_errors FROM results
		WHERE received_at >= ? AND received_at <= ? AND night >= ? ORDER BY server_id, received_at, id`,
		formatTime(from), formatTime(now), first)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	last := map[int64]map[Night]nightVerdict{}
	for rows.Next() {
		var v nightVerdict
		var id, serverID int64
		var at string
		if err := rows.Scan(&id, &serverID, &v.night, &v.status, &v.code, &at, &v.fileErrors); err != nil {
			return nil, nil, err
		}
		t := parseTime(at)
		v.resultID, v.receivedAt = &id, &t
		if last[serverID] == nil {
			last[serverID] = map[Night]nightVerdict{}
		}
		last[serverID][v.night] = v
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	out := map[int64][]nightVerdict{}
	for _, x := range exps {
		start := first
		if c := FirstNight(x.since, loc); c > start {
			start = c
		}
		var vs []nightVerdict
		for n := current; n >= start; n = n.AddDays(-1) {
			if v, ok := last[x.srv.ID][n]; ok {
				vs = append(vs, v)
			} else if x.srv.Expected(n.Weekday()) && !x.deadline(n, loc).After(now) {
				vs = append(vs, nightVerdict{night: n, status: StatusMissing, code: -2})
			}
		}
		out[x.srv.ID] = vs
	}
	return out, exps, nil
}

// onIt names who is on a server's failure: the author of the latest claim
// since since that no resolution followed, else the latest note's author.
func (db *DB) onIt(ctx context.Context, serverID int64, since time.Time) (string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT n.kind, COALESCE(u.username, '') FROM notes n LEFT JOIN users u ON u.id = n.user_id
		WHERE n.server_id = ? AND n.created_at >= ? ORDER BY n.created_at DESC, n.id DESC`, serverID, formatTime(since))
	if err != nil {
		return "", mapErr(err)
	}
	defer rows.Close()
	var latest string
	first, claimOpen := true, true
	for rows.Next() {
		var kind, who string
		if err := rows.Scan(&kind, &who); err != nil {
			return "", err
		}
		if first {
			latest, first = who, false
		}
		switch {
		case kind == "resolved":
			claimOpen = false
		case kind == "claim" && claimOpen:
			return who, rows.Err()
		}
	}
	return latest, rows.Err()
}

func sortEntries(es []FailureEntry) {
	sort.SliceStable(es, func(i, j int) bool {
		ci, cj := strings.ToLower(es[i].Customer), strings.ToLower(es[j].Customer)
		if ci != cj {
			return ci < cj
		}
		return strings.ToLower(es[i].Server) < strings.ToLower(es[j].Server)
	})
}

// StateWarning is the webhook state of a server whose latest result is ok
// but has warnings nobody has acknowledged: ok by its verdict, not to be
// trusted yet. Acknowledging the warnings makes it ok again.
const StateWarning = "warning"

// StateChange is a server whose state (ok, warning, failed, missing)
// differs from the one last announced, for the state-change webhook.
type StateChange struct {
	ServerID int64
	Customer string
	Server   string
	From     string // the state last announced; "new" for a server not seen before
	To       string
	Code     int
	ResultID *int64
	At       time.Time
	// Warnings are the kinds of the warnings nobody acknowledged of the
	// server's latest result, whatever the state.
	Warnings []parser.WarningKind
}

// webhookState is a status row's state for the webhook: its status, or
// StateWarning for an ok one with warnings nobody acknowledged.
func webhookState(r StatusRow) string {
	if r.Status == parser.StatusOK && len(Unacknowledged(r.Warnings)) > 0 {
		return StateWarning
	}
	return string(r.Status)
}

// TakeStateChanges compares every active server's state (Status with a
// 24-hour window) with the state last announced, stores the current states
// and returns the changes, by customer and server. Servers that never
// reported and have no recorded missing night are left out. The first call
// on a database (no state stored yet) stores the states and returns
// nothing, so a first start does not announce every failing server; later,
// a server seen for the first time is announced only when it is not ok.
//
// A change is returned once: the caller delivers it, and a failed delivery
// is not retried by a later call.
func (db *DB) TakeStateChanges(ctx context.Context, now time.Time) ([]StateChange, error) {
	rows, err := db.Status(ctx, now, 24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("state changes: %w", err)
	}
	var out []StateChange
	err = db.withTx(ctx, func(tx *sql.Tx) error {
		known := map[int64]string{}
		q, err := tx.QueryContext(ctx, `SELECT server_id, state FROM notified_states`)
		if err != nil {
			return err
		}
		for q.Next() {
			var id int64
			var state string
			if err := q.Scan(&id, &state); err != nil {
				q.Close()
				return err
			}
			known[id] = state
		}
		q.Close()
		if err := q.Err(); err != nil {
			return err
		}
		firstRun := len(known) == 0
		for _, r := range rows {
			if r.Status == StatusMissing && r.ResultID == nil && r.LastSeen == nil {
				continue
			}
			state := webhookState(r)
			prev, seen := known[r.ServerID]
			if seen && prev == state {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO notified_states (server_id, state, result_id, changed_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (server_id) DO UPDATE SET state = excluded.state, result_id = excluded.result_id, changed_at = excluded.changed_at`,
				r.ServerID, state, r.ResultID, formatTime(now)); err != nil {
				return err
			}
			if !seen {
				if firstRun || state == string(parser.StatusOK) {
					continue
				}
				prev = "new"
			}
			c := StateChange{ServerID: r.ServerID, Customer: r.Customer, Server: r.Server, From: prev, To: state,
				Code: r.Code, ResultID: r.ResultID, At: now.UTC()}
			for _, w := range Unacknowledged(r.Warnings) {
				c.Warnings = append(c.Warnings, w.Kind)
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state changes: %w", err)
	}
	return out, nil
}
