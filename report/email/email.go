// Package email renders the daily and three-day failure reports as
// multipart messages (plain text and HTML) and sends them over SMTP with
// github.com/wneessen/go-mail, retrying with backoff.
//
// The HTML part is rendered with html/template, so customer and server
// names are escaped wherever they appear; text/template renders only the
// plain-text part.
package email

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// The templates are parsed on first use, not at init: every command
// links this package, and only serve and "report send" render emails.
var (
	htmlTmpl = sync.OnceValue(func() *htmltemplate.Template {
		return htmltemplate.Must(htmltemplate.New("report.html.tmpl").ParseFS(templateFS, "templates/report.html.tmpl"))
	})
	textTmpl = sync.OnceValue(func() *texttemplate.Template {
		return texttemplate.Must(texttemplate.New("report.txt.tmpl").ParseFS(templateFS, "templates/report.txt.tmpl"))
	})
)

// Report is what one failure email says.
type Report struct {
	Kind      string    // store.ReportDaily or store.ReportThreeDay
	At        time.Time // when the report was made
	Location  *time.Location
	Failures  []store.FailureEntry
	Recovered []store.FailureEntry
	// Warned are the servers whose latest result has warnings nobody has
	// acknowledged (store.DB.Warned), whatever their verdict.
	Warned []store.FailureEntry
	// BaseURL is the web interface's address, e.g. https://backups.example.com;
	// empty leaves the links out.
	BaseURL string
	// Codes explains exit codes; the zero table is the built-in one.
	Codes parser.CodeTable
	// WarningTexts explain warnings; the zero table is the built-in one.
	WarningTexts parser.WarningTable
}

// ForCustomers returns the report limited to the given customer slugs
// (ignoring case), for a CSR or TSR.
func (r Report) ForCustomers(slugs []string) Report {
	keep := map[string]bool{}
	for _, s := range slugs {
		keep[strings.ToLower(s)] = true
	}
	filter := func(es []store.FailureEntry) []store.FailureEntry {
		var out []store.FailureEntry
		for _, e := range es {
			if keep[strings.ToLower(e.Customer)] {
				out = append(out, e)
			}
		}
		return out
	}
	r.Failures, r.Recovered, r.Warned = filter(r.Failures), filter(r.Recovered), filter(r.Warned)
	return r
}

// Empty reports whether the report lists nothing at all.
func (r Report) Empty() bool {
	return len(r.Failures) == 0 && len(r.Recovered) == 0 && len(r.Warned) == 0
}

// Message is a rendered email: its subject and both parts.
type Message struct {
	Subject string
	Text    string
	HTML    string
}

// Title names a report kind in subjects and headings.
func Title(kind string) string {
	if kind == store.ReportThreeDay {
		return "Three-day failure report"
	}
	return "Daily failure report"
}

type entryView struct {
	store.FailureEntry
	Info      parser.CodeInfo
	Received  string
	ResultURL string
	ServerURL string
	Warnings  []warningView
}

// warningView is a warning with its texts and its link.
type warningView struct {
	store.Warning
	Info parser.WarningInfo
	URL  string
}

type groupView struct {
	Customer string
	Entries  []entryView
}

type reportView struct {
	Title     string
	Intro     string
	Date      string
	Failed    int
	Missing   int
	Groups    []groupView
	Recovered []entryView
	Warned    []entryView
}

// Render renders a report into a subject, a plain-text part and an HTML
// part with the same content: failures grouped by customer, each with its
// code, what it means and what to do, who is on it and a link to the
// result, then the servers with warnings not acknowledged (whatever their
// verdict), then the recovered servers.
func Render(r Report) (Message, error) {
	loc := r.Location
	if loc == nil {
		loc = time.Local
	}
	codes := r.Codes.Lookup
	v := reportView{Title: Title(r.Kind), Date: r.At.In(loc).Format("Monday 2 January 2006")}
	if r.Kind == store.ReportThreeDay {
		v.Intro = "Servers that failed or sent no report on each of their last three nights."
	} else {
		v.Intro = "Servers whose latest report in the last 24 hours failed, or that sent none."
	}
	view := func(e store.FailureEntry) entryView {
		ev := entryView{FailureEntry: e, Info: codes(e.Code), Received: "no report"}
		if e.ReceivedAt != nil {
			ev.Received = e.ReceivedAt.In(loc).Format("2006-01-02 15:04 MST") // the zone named, as on the pages
		}
		if base := strings.TrimRight(r.BaseURL, "/"); base != "" {
			ev.ServerURL = base + "/servers/" + url.PathEscape(e.Customer) + "/" + url.PathEscape(e.Server)
			if e.ResultID != nil {
				ev.ResultURL = base + "/results/" + strconv.FormatInt(*e.ResultID, 10)
			}
		}
		for _, w := range e.Warnings {
			wv := warningView{Warning: w, Info: r.WarningTexts.Lookup(w.Kind)}
			if ev.ResultURL != "" {
				wv.URL = ev.ResultURL + "#warn-" + string(w.Kind)
			}
			ev.Warnings = append(ev.Warnings, wv)
		}
		return ev
	}
	entries := append([]store.FailureEntry(nil), r.Failures...)
	sort.SliceStable(entries, func(i, j int) bool {
		return strings.ToLower(entries[i].Customer) < strings.ToLower(entries[j].Customer)
	})
	for _, e := range entries {
		if e.Status == store.StatusMissing {
			v.Missing++
		} else {
			v.Failed++
		}
		if n := len(v.Groups); n == 0 || !strings.EqualFold(v.Groups[n-1].Customer, e.Customer) {
			v.Groups = append(v.Groups, groupView{Customer: e.Customer})
		}
		g := &v.Groups[len(v.Groups)-1]
		g.Entries = append(g.Entries, view(e))
	}
	for _, e := range r.Recovered {
		v.Recovered = append(v.Recovered, view(e))
	}
	for _, e := range r.Warned {
		v.Warned = append(v.Warned, view(e))
	}
	var m Message
	m.Subject = v.Title + " " + r.At.In(loc).Format(time.DateOnly) + ": "
	if v.Failed+v.Missing == 0 {
		m.Subject += "nothing failed"
	} else {
		m.Subject += strconv.Itoa(v.Failed) + " failed, " + strconv.Itoa(v.Missing) + " missing"
	}
	if len(v.Recovered) > 0 {
		m.Subject += ", " + strconv.Itoa(len(v.Recovered)) + " recovered"
	}
	if len(v.Warned) > 0 {
		m.Subject += ", " + strconv.Itoa(len(v.Warned)) + " with warnings"
	}
	var buf bytes.Buffer
	if err := textTmpl().Execute(&buf, v); err != nil {
		return Message{}, err
	}
	m.Text = buf.String()
	buf.Reset()
	if err := htmlTmpl().Execute(&buf, v); err != nil {
		return Message{}, err
	}
	m.HTML = buf.String()
	return m, nil
}
