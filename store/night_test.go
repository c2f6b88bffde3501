package store

import (
	"testing"
	"time"
)

func TestNightArithmetic(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data")
	}
	for _, c := range []struct {
		name      string
		got, want Night
	}{
		{"a day on", Night("2026-02-28").AddDays(1), "2026-03-01"},
		{"a day back over a year", Night("2026-01-01").AddDays(-1), "2025-12-31"},
		{"across the spring clock change", Night("2026-03-28").AddDays(2), "2026-03-30"},
		{"the last complete night, all day long, is the one that began the evening before", LastCompleteNight(time.Date(2026, 3, 20, 23, 59, 0, 0, berlin), berlin), "2026-03-19"},
		{"the last complete night changes at midnight", LastCompleteNight(time.Date(2026, 3, 21, 0, 30, 0, 0, berlin), berlin), "2026-03-20"},
		{"the first night is the calendar date of creation, even before noon", FirstNight(time.Date(2026, 3, 20, 9, 0, 0, 0, berlin), berlin), "2026-03-20"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %s, want %s", c.name, c.got, c.want)
		}
	}
	if got := Night("2026-03-29").Noon(berlin); !got.Equal(time.Date(2026, 3, 29, 12, 0, 0, 0, berlin)) || got.Sub(Night("2026-03-28").Noon(berlin)) != 23*time.Hour {
		t.Errorf("noon of the night the clocks went forward: %v, want local noon, 23 hours after the night before", got)
	}
	if got := Night("2026-03-15").Weekday(); got != time.Sunday {
		t.Errorf("weekday of 2026-03-15: %v, want Sunday", got)
	}
	if n := NightsBetween("2026-02-27", "2026-03-02"); len(n) != 4 || n[0] != "2026-02-27" || n[3] != "2026-03-02" {
		t.Errorf("NightsBetween: %v", n)
	}
	if n := NightsBetween("2000-01-01", "2099-01-01"); len(n) != maxNights {
		t.Errorf("NightsBetween over a century: %d nights, want the bound %d", len(n), maxNights)
	}
	if n := NightsBetween("x", "2026-01-01"); n != nil {
		t.Errorf("NightsBetween of a bad night: %v, want nil", n)
	}
	if _, err := ParseNight("2026-3-1"); err == nil {
		t.Errorf("ParseNight accepted 2026-3-1")
	}
}
