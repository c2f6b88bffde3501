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
	b := base{Title: title, Path: r.URL.Path, TZ: ZoneName(h.loc, h.cfg.Now()), Now: h.cfg.Now().In(h.loc)}
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
		"bytes":      HumanBytes,
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

// HumanBytes writes a size in binary units for people ("1.5 MiB"), on the
// pages and in the command line's tables alike.
func HumanBytes(n int64) string {
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

func trimLower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
