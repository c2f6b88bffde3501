package report

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// base is what the layout needs on every page.
type base struct {
	Title string
	User  *store.User
	CSRF  string
	Path  string
	TZ    string
	Demo  bool
	Now   time.Time
}

func (h *Handler) base(r *http.Request, s *session, title string) base {
	b := base{Title: title, Path: r.URL.Path, TZ: h.loc.String(), Now: h.cfg.Now().In(h.loc)}
	if s != nil {
		u := s.User
		b.User, b.CSRF = &u, s.CSRF
	}
	if _, err := h.db.Setting(r.Context(), store.SettingDemo); err == nil {
		b.Demo = true
	}
	return b
}

type errorPage struct {
	base
	Status  int
	Message string
}

// verdict is how a status is shown: always a word and an icon, and a
// class for colour, never colour alone.
type verdict struct {
	Class string // ok, okx, failed, missing, none
	Label string
	Icon  string
}

func verdictOf(status parser.Status, excepted int) verdict {
	switch status {
	case parser.StatusOK:
		if excepted > 0 {
			return verdict{"okx", "OK with exceptions", "!"}
		}
		return verdict{"ok", "OK", "✔"}
	case parser.StatusFailed:
		return verdict{"failed", "FAILED", "✖"}
	case parser.StatusMissing:
		return verdict{"missing", "MISSING", "?"}
	}
	return verdict{"none", "no report expected", "·"}
}

// serverURL is the page of a server; names are escaped as path segments.
func serverURL(customer, server string) string {
	return "/servers/" + url.PathEscape(customer) + "/" + url.PathEscape(server)
}

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.In(h.loc).Format("2006-01-02 15:04")
		},
		"whenp": func(t *time.Time) string {
			if t == nil || t.IsZero() {
				return "-"
			}
			return t.In(h.loc).Format("2006-01-02 15:04")
		},
		"ago":        func(t *time.Time) string { return ago(h.cfg.Now(), t) },
		"bytes":      humanBytes,
		"verdict":    verdictOf,
		"serverURL":  serverURL,
		"pathEscape": url.PathEscape,
		"join":       strings.Join,
		"weekdays":   store.WeekdayNames,
		"add":        func(a, b int) int { return a + b },
		"pct": func(n, total int) string {
			if total == 0 {
				return "-"
			}
			return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(total))
		},
	}
}

func ago(now time.Time, t *time.Time) string {
	if t == nil {
		return "never"
	}
	d := now.Sub(*t)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// lastCompleteNight is the latest night whose reports are due: a night's
// reports arrive until noon of the next day, so at any moment the night
// that began more than 12 hours before is the last one to judge.
func lastCompleteNight(now time.Time, loc *time.Location) string {
	return store.Night(now.Add(-12*time.Hour), loc)
}

// nightsBetween lists nights from..to inclusive, as YYYY-MM-DD.
func nightsBetween(from, to string) []string {
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	for d := f; !d.After(t) && len(out) < 4000; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// noonOf returns noon of a night's date in loc: the start of the window
// in which that night's reports arrive.
func noonOf(night string, loc *time.Location) time.Time {
	d, _ := time.ParseInLocation(time.DateOnly, night, loc)
	return time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc)
}

func weekdayOf(night string) time.Weekday {
	d, _ := time.Parse(time.DateOnly, night)
	return d.Weekday()
}

func trimLower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
