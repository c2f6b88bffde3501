package report

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// statusWindow is how far back the nightly report looks for a result.
const statusWindow = 24 * time.Hour

// nightlyRow is one server's line in the nightly report.
type nightlyRow struct {
	store.StatusRow
	Verdict  verdict `json:"-"`
	CodeName string  `json:"code_name"`
	Meaning  string  `json:"code_meaning"`
	OnIt     string  `json:"on_it"` // who claimed the problem, if anyone
	URL      string  `json:"-"`
}

// nightlyFilter is the report's filter, from the query string.
type nightlyFilter struct {
	Status   string // "", problems, ok, failed, missing
	Customer string
	Staff    string // a CSR or TSR username
	Warnings string // "", "any" (with warnings), "open" (some not acknowledged)
}

func filterOf(q url.Values) nightlyFilter {
	return nightlyFilter{Status: q.Get("status"), Customer: q.Get("customer"), Staff: q.Get("staff"), Warnings: q.Get("warnings")}
}

func (f nightlyFilter) match(r *nightlyRow) bool {
	switch f.Status {
	case "problems":
		if r.Status == parser.StatusOK {
			return false
		}
	case string(parser.StatusOK), string(parser.StatusFailed), string(parser.StatusMissing):
		if string(r.Status) != f.Status {
			return false
		}
	}
	switch f.Warnings {
	case "any":
		if len(r.Warnings) == 0 {
			return false
		}
	case "open":
		if len(store.Unacknowledged(r.Warnings)) == 0 {
			return false
		}
	}
	if f.Customer != "" && !strings.EqualFold(f.Customer, r.Customer) {
		return false
	}
	if f.Staff != "" && !strings.EqualFold(f.Staff, r.CSR) && !strings.EqualFold(f.Staff, r.TSR) {
		return false
	}
	return true
}

// Query returns the filter as a query string, for the CSV and JSON links.
func (f nightlyFilter) Query() string {
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "customer": f.Customer, "staff": f.Staff, "warnings": f.Warnings} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// nightlyCounts are the summary line over every server, not just the
// filtered ones.
type nightlyCounts struct {
	Total   int `json:"total"`
	OK      int `json:"ok"`
	OKX     int `json:"ok_with_exceptions"`
	Failed  int `json:"failed"`
	Missing int `json:"missing"`
	// Warned counts the servers whose latest result has warnings not
	// acknowledged, whatever its verdict.
	Warned int `json:"warned"`
}

// nightly computes the report once for the page, the JSON and the CSV.
func (h *Handler) nightly(ctx context.Context, f nightlyFilter) ([]nightlyRow, nightlyCounts, []string, []string, error) {
	st, err := h.db.Status(ctx, h.cfg.Now(), statusWindow)
	if err != nil {
		return nil, nightlyCounts{}, nil, nil, err
	}
	codes, err := h.db.CodeTable(ctx)
	if err != nil {
		return nil, nightlyCounts{}, nil, nil, err
	}
	claims, err := h.db.Claims(ctx)
	if err != nil {
		return nil, nightlyCounts{}, nil, nil, err
	}
	var c nightlyCounts
	custSet, staffSet := map[string]bool{}, map[string]bool{}
	rows := make([]nightlyRow, 0, len(st))
	for _, s := range st {
		ci := codes.Lookup(s.Code)
		r := nightlyRow{StatusRow: s, Verdict: verdictOf(s.Status, s.ExceptedErrors), CodeName: ci.Name, Meaning: ci.Meaning, URL: serverURL(s.Customer, s.Server)}
		if n, ok := claims[s.ServerID]; ok && s.Status != parser.StatusOK {
			r.OnIt = n.Username
		}
		c.Total++
		if len(store.Unacknowledged(s.Warnings)) > 0 {
			c.Warned++
		}
		switch r.Verdict.Class {
		case "ok":
			c.OK++
		case "okx":
			c.OKX++
		case "failed":
			c.Failed++
		case "missing":
			c.Missing++
		}
		custSet[s.Customer] = true
		for _, u := range []string{s.CSR, s.TSR} {
			if u != "" {
				staffSet[u] = true
			}
		}
		if f.match(&r) {
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Status.Order() < rows[j].Status.Order() })
	return rows, c, sortedKeys(custSet), sortedKeys(staffSet), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

type nightlyPage struct {
	base
	Rows      []nightlyRow
	RowsHTML  template.HTML
	Counts    nightlyCounts
	Filter    nightlyFilter
	Customers []string
	Staff     []string
}

func (h *Handler) nightlyPage(w http.ResponseWriter, r *http.Request, s *session) error {
	f := filterOf(r.URL.Query())
	rows, counts, custs, staff, err := h.nightly(r.Context(), f)
	if err != nil {
		return err
	}
	p := &nightlyPage{base: h.base(r, s, "Nightly report"), Rows: rows, RowsHTML: h.rowsHTML(rows), Counts: counts, Filter: f, Customers: custs, Staff: staff}
	return h.render(w, r, http.StatusOK, "nightly", p)
}

// rowsHTML renders the nightly table's rows. With ten thousand servers
// html/template's reflective escaping of each cell takes most of the
// page's time, so the rows are written here, every value passing through
// template.HTMLEscapeString (all are element text or quoted attribute
// values, and URLs are built from path-escaped names). The security test
// checks this path with hostile names.
func (h *Handler) rowsHTML(rows []nightlyRow) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 400)
	esc := template.HTMLEscapeString
	for i := range rows {
		r := &rows[i]
		v := r.Verdict
		fmt.Fprintf(&b, `<tr class="%s"><td><span class="st %s">%s %s</span>`, v.Class, v.Class, v.Icon, v.Label)
		if r.New {
			b.WriteString(` <span class="small muted">(new)</span>`)
		}
		fmt.Fprintf(&b, `</td><td>%s</td><td><a href="%s">%s</a></td><td class="num">`, esc(r.Customer), esc(r.URL), esc(r.Server))
		if r.ResultID != nil {
			fmt.Fprintf(&b, `<a href="/results/%d">%d</a>`, *r.ResultID, r.Code)
		} else {
			fmt.Fprintf(&b, `%d`, r.Code)
		}
		fmt.Fprintf(&b, `</td><td>%s</td><td>`, esc(r.CodeName))
		if r.ReceivedAt != nil {
			b.WriteString(r.ReceivedAt.In(h.loc).Format("2006-01-02 15:04"))
		} else {
			fmt.Fprintf(&b, `<span class="muted">last seen %s</span>`, esc(ago(h.cfg.Now(), r.LastSeen)))
		}
		fmt.Fprintf(&b, `</td><td class="num">%d</td><td class="num">%d</td><td>`, r.FileErrors, r.ExceptedErrors)
		for i, w := range r.Warnings {
			if i > 0 {
				b.WriteString(" ")
			}
			class := "warn"
			if w.Acknowledged() {
				class = "warn acked"
			}
			fmt.Fprintf(&b, `<a class="%s" href="/results/%d#warn-%s" title="%s">⚠ %s</a>`, class, w.ResultID, esc(string(w.Kind)), esc(w.Message), esc(string(w.Kind)))
		}
		fmt.Fprintf(&b, `</td><td class="hide-small">%s</td><td class="hide-small">%s</td><td>%s</td></tr>`+"\n", esc(r.CSR), esc(r.TSR), esc(r.OnIt))
	}
	return template.HTML(b.String())
}
