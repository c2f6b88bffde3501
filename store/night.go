package store

import (
	"fmt"
	"time"
)

// Night is the evening a backup started, as its calendar date
// (YYYY-MM-DD) in the server's location: a night's reports arrive from
// noon that day until noon the next. It is stored, shown and printed as
// that date, and its arithmetic (the next night, its weekday, its window)
// lives here alone, for the store, the pages and the e-mails alike.
type Night string

// NightOf returns the night a report received at t belongs to: the
// evening the backup started, in loc. Reports received before noon belong
// to the previous evening.
func NightOf(t time.Time, loc *time.Location) Night {
	// Noon by the local clock, not 12 real hours: on the days the clocks
	// change, the two differ by an hour.
	l := t.In(loc)
	if l.Hour() < 12 {
		l = l.AddDate(0, 0, -1)
	}
	return Night(l.Format(time.DateOnly))
}

// LastCompleteNight is the latest night whose reports are due at now: a
// night's reports arrive until noon of the next day, so the night that
// began more than 12 hours before now is the last one to judge.
func LastCompleteNight(now time.Time, loc *time.Location) Night {
	return NightOf(now.Add(-12*time.Hour), loc)
}

// FirstNight returns the first night a server watched since t is
// expected to report: the calendar date of t in loc, whatever its time of
// day. The missing-report check, the failure reports, the status calendar
// and the historical report all start there.
func FirstNight(t time.Time, loc *time.Location) Night {
	return Night(t.In(loc).Format(time.DateOnly))
}

// ParseNight reads a night written as YYYY-MM-DD.
func ParseNight(s string) (Night, error) {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", fmt.Errorf("night %q: want a date like 2026-03-01", s)
	}
	return Night(s), nil
}

// date is the night's date at midnight UTC; only its calendar fields are
// used. An invalid night is the zero time.
func (n Night) date() time.Time {
	t, _ := time.Parse(time.DateOnly, string(n))
	return t
}

// AddDays returns the night d calendar days after n (before, for d < 0).
func (n Night) AddDays(d int) Night {
	return Night(n.date().AddDate(0, 0, d).Format(time.DateOnly))
}

// Weekday returns the weekday of the night's evening.
func (n Night) Weekday() time.Weekday { return n.date().Weekday() }

// Noon returns noon of the night's date in loc: the start of the window in
// which its reports arrive.
func (n Night) Noon(loc *time.Location) time.Time {
	d := n.date()
	return time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc)
}

// Midnight returns the start of the night's date in loc.
func (n Night) Midnight(loc *time.Location) time.Time {
	d := n.date()
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}

// String returns the night as YYYY-MM-DD.
func (n Night) String() string { return string(n) }

// maxNights bounds NightsBetween: eleven years of nights.
const maxNights = 4000

// NightsBetween lists the nights from..to, both included, oldest first,
// at most maxNights of them; nil when either is not a valid night.
func NightsBetween(from, to Night) []Night {
	f, err1 := time.Parse(time.DateOnly, string(from))
	t, err2 := time.Parse(time.DateOnly, string(to))
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []Night
	for d := f; !d.After(t) && len(out) < maxNights; d = d.AddDate(0, 0, 1) {
		out = append(out, Night(d.Format(time.DateOnly)))
	}
	return out
}
