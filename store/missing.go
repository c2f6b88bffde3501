package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/backupreport/backupreport/parser"
)

// MissingLookback is how many nights before the current one a check looks
// at by default. A first start, or a start after a long outage, records at
// most this many missing nights per server instead of flooding the history;
// "backupreport check --lookback" reaches further.
const MissingLookback = 7

// MissingReason is the reason stored on a missing night.
const MissingReason = "no report received"

// MissingNight is one night the missing-report check recorded for a server.
type MissingNight struct {
	ResultID int64  `json:"result_id"`
	ServerID int64  `json:"server_id"`
	Customer string `json:"customer"`
	Server   string `json:"server"`
	Night    Night  `json:"night"`
	// Deadline is when the night's report became overdue; the recorded
	// result's received_at is this time, so the history keeps its order.
	Deadline time.Time `json:"deadline"`
}

// RecordMissing runs the missing-report check as of now and returns the
// nights it recorded, by customer, server and night.
//
// Nights are calendar dates in loc, as in Night: night N's window runs from
// noon on N to noon on N+1. For each server that is not retired and whose
// customer is active, the check looks at every night N with
//
//   - N no earlier than the later of: MissingLookback nights before
//     Night(now), the calendar date of the server's creation, and the night
//     after its latest upload received at or before now;
//   - N no later than Night(now);
//   - the server expecting a report on N's weekday (Server.Expected);
//   - no upload of any time stored for N;
//   - N's deadline at or before now.
//
// The deadline follows the seed's "older than 24 hours" rule: a report is
// overdue 24 hours after the previous one. With a latest upload received at
// local clock time C, night N's report is due at C on N (when C is noon or
// later) or at C on N+1 (before noon), counted in calendar days so that a
// DST change moves it with the wall clock. A server that never uploaded is
// due at noon on N+1, when N's window closes. A deadline that falls in a
// daylight-saving gap is moved forward by the gap (see wallClock).
//
// Each such night gets a result with source "missing", status "missing",
// code -2 and reason "no report received", received at its deadline, and an
// audit entry naming the check time. The check is idempotent: a unique
// index allows one missing result per server and night, so running it
// again, or at start-up and at the scheduled hour, records nothing twice.
func (db *DB) RecordMissing(ctx context.Context, now time.Time, loc *time.Location) ([]MissingNight, error) {
	return db.RecordMissingSince(ctx, now, loc, MissingLookback)
}

// RecordMissingSince is RecordMissing looking back lookback nights before
// Night(now) instead of MissingLookback.
func (db *DB) RecordMissingSince(ctx context.Context, now time.Time, loc *time.Location, lookback int) ([]MissingNight, error) {
	if loc == nil {
		loc = time.UTC
	}
	if lookback < 0 {
		lookback = 0
	}
	var recorded []MissingNight
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		exps, err := expectations(ctx, tx, now)
		if err != nil {
			return err
		}
		current := NightOf(now, loc)
		for _, e := range exps {
			first := current.AddDays(-lookback)
			if c := FirstNight(e.since, loc); c > first {
				first = c
			}
			if e.lastUpload != nil {
				if n := e.lastNight.AddDays(1); n > first {
					first = n
				}
			}
			if first > current {
				continue
			}
			uploaded, err := uploadNights(ctx, tx, e.srv.ID, first)
			if err != nil {
				return err
			}
			for n := first; n <= current; n = n.AddDays(1) {
				if !e.srv.Expected(n.Weekday()) || uploaded[n] {
					continue
				}
				dl := e.deadline(n, loc)
				if dl.After(now) {
					continue
				}
				id, ok, err := db.insertMissing(ctx, tx, e.srv.ID, n, dl)
				if err != nil {
					return fmt.Errorf("record missing night %s of %s/%s: %w", n, e.srv.Customer, e.srv.Name, err)
				}
				if !ok {
					continue
				}
				m := MissingNight{ResultID: id, ServerID: e.srv.ID, Customer: e.srv.Customer, Server: e.srv.Name, Night: n, Deadline: dl.UTC()}
				if err := db.audit(ctx, tx, "check", "result.missing", "server "+e.srv.Customer+"/"+e.srv.Name,
					nil, map[string]any{"night": n, "result_id": id, "deadline": dl.UTC(), "checked_at": now.UTC()}); err != nil {
					return err
				}
				recorded = append(recorded, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("missing check: %w", err)
	}
	return recorded, nil
}

// insertMissing stores one missing night; ok is false when it was already
// recorded.
func (db *DB) insertMissing(ctx context.Context, tx *sql.Tx, serverID int64, night Night, at time.Time) (id int64, ok bool, err error) {
	// An existing row returns no id: ON CONFLICT DO NOTHING returns
	// only the rows it inserted.
	err = tx.QueryRowContext(ctx, `INSERT INTO results (server_id, received_at, night, source, status, code, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		serverID, formatTime(at), night, SourceMissing, StatusMissing, parser.CodeMissing, MissingReason).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return id, true, nil
}

// expectation is what the check knows of one active server at a moment.
type expectation struct {
	srv        Server
	lastUpload *time.Time // latest upload received at or before the moment
	lastNight  Night      // that upload's night
	// since is when watching began: the server's creation, or its
	// return from retirement (or its customer's from inactivity).
	since time.Time
}

// deadline returns when night's report is overdue (see RecordMissing).
func (e expectation) deadline(night Night, loc *time.Location) time.Time {
	d := night.date()
	closes := night.AddDays(1).Noon(loc)
	if e.lastUpload == nil {
		return closes
	}
	c := e.lastUpload.In(loc)
	day := d.Day()
	if c.Hour() < 12 {
		day++
	}
	dl := wallClock(d.Year(), d.Month(), day, c.Hour(), c.Minute(), c.Second(), loc)
	if opens := night.Noon(loc); dl.Before(opens) {
		dl = opens
	}
	if dl.After(closes) {
		dl = closes
	}
	return dl
}

// wallClock is time.Date, except that a clock time skipped by a
// daylight-saving change is moved forward by the size of the gap (02:30 on
// a day that jumps from 02:00 to 03:00 becomes 03:30), where time.Date
// would move it back.
func wallClock(y int, m time.Month, d, h, min, sec int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, h, min, sec, 0, loc)
	if t.Hour() == h && t.Minute() == min {
		return t
	}
	_, before := t.Zone()
	_, after := t.Add(6 * time.Hour).Zone()
	return t.Add(time.Duration(after-before) * time.Second)
}

// expectations loads every server that can be missing (not retired, its
// customer active) with its latest upload received at or before now.
func expectations(ctx context.Context, q querier, now time.Time) ([]expectation, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+serverColumns+`, lr.received_at, lr.night, s.watched_since
		FROM `+serverFrom+`
		LEFT JOIN results lr ON lr.id = (SELECT r.id FROM results r WHERE r.server_id = s.id AND r.source <> 'missing' AND r.received_at <= ?
			ORDER BY r.received_at DESC, r.id DESC LIMIT 1)
		WHERE s.retired = 0 AND c.active = 1 ORDER BY lower(c.slug), lower(s.name), s.id`, formatTime(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []expectation
	for rows.Next() {
		var e expectation
		var created string
		var lastAt, lastNight, watched sql.NullString
		if err := rows.Scan(&e.srv.ID, &e.srv.CustomerID, &e.srv.Customer, &e.srv.Name, &e.srv.Retired, &e.srv.Pending, &e.srv.ExpectDays, &created,
			&lastAt, &lastNight, &watched); err != nil {
			return nil, err
		}
		e.srv.CreatedAt = parseTime(created)
		e.since = e.srv.CreatedAt
		if w := nullTime(watched); w != nil && w.After(e.since) {
			e.since = *w
		}
		e.lastUpload, e.lastNight = nullTime(lastAt), Night(lastNight.String)
		out = append(out, e)
	}
	return out, rows.Err()
}

// uploadNights returns the nights from first on that have an upload of any
// time: a night whose report came late is never recorded as missing.
func uploadNights(ctx context.Context, q querier, serverID int64, first Night) (map[Night]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT night FROM results WHERE server_id = ? AND source <> 'missing' AND night >= ?`, serverID, first)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[Night]bool{}
	for rows.Next() {
		var n Night
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}
