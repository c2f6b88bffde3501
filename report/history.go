package report

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/backupreport/backupreport/store"
)

// historyRow is one server's line in the historical report.
type historyRow struct {
	Customer   string `json:"customer"`
	Server     string `json:"server"`
	Expected   int    `json:"expected_nights"`
	OK         int    `json:"ok"`
	OKExcepted int    `json:"ok_with_exceptions"`
	Failed     int    `json:"failed"`
	Missing    int    `json:"missing"`
	URL        string `json:"-"`
}

// historyQuery is the range and order of the historical report.
type historyQuery struct {
	From, To  store.Night
	Sort, Dir string
}

const maxHistoryNights = 3 * 366

func (h *Handler) historyQueryOf(q url.Values) (historyQuery, error) {
	last := store.LastCompleteNight(h.cfg.Now(), h.loc)
	hq := historyQuery{From: store.Night(q.Get("from")), To: store.Night(q.Get("to")), Sort: q.Get("sort"), Dir: q.Get("dir")}
	if hq.To == "" {
		hq.To = last
	}
	if hq.From == "" {
		hq.From = last.AddDays(-29)
	}
	_, err1 := store.ParseNight(string(hq.From))
	_, err2 := store.ParseNight(string(hq.To))
	if err1 != nil || err2 != nil {
		return hq, errorf(http.StatusBadRequest, "Dates must look like 2026-03-01.")
	}
	if hq.To > last {
		hq.To = last
	}
	if hq.From > hq.To {
		return hq, errorf(http.StatusBadRequest, "The range starts after it ends.")
	}
	if hq.From.AddDays(maxHistoryNights) < hq.To {
		return hq, errorf(http.StatusBadRequest, "The range may cover at most %d nights.", maxHistoryNights)
	}
	switch hq.Sort {
	case "customer", "server", "ok", "okx", "failed", "missing", "expected":
	default:
		hq.Sort = "customer"
	}
	if hq.Dir != "desc" {
		hq.Dir = "asc"
	}
	return hq, nil
}

// history computes per-server night counts over the range.
func (h *Handler) history(ctx context.Context, hq historyQuery) ([]historyRow, error) {
	counts, err := h.db.NightCounts(ctx, hq.From, hq.To, hq.From.Noon(h.loc), hq.To.AddDays(1).Noon(h.loc))
	if err != nil {
		return nil, err
	}
	nights := store.NightsBetween(hq.From, hq.To)
	var perDay [7]int
	for _, n := range nights {
		perDay[n.Weekday()]++
	}
	out := make([]historyRow, 0, len(counts))
	for _, c := range counts {
		row := historyRow{Customer: c.Customer, Server: c.Server, OK: c.OK, OKExcepted: c.OKExcepted, Failed: c.Failed, URL: serverURL(c.Customer, c.Server)}
		created := store.FirstNight(c.CreatedAt, h.loc)
		for _, n := range nights {
			if n >= created && c.ExpectDays&(1<<uint(n.Weekday())) != 0 {
				row.Expected++
			}
		}
		row.Missing = max(0, row.Expected-row.OK-row.OKExcepted-row.Failed)
		out = append(out, row)
	}
	key := func(r historyRow) int {
		switch hq.Sort {
		case "ok":
			return r.OK
		case "okx":
			return r.OKExcepted
		case "failed":
			return r.Failed
		case "missing":
			return r.Missing
		}
		return r.Expected
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if hq.Dir == "desc" {
			a, b = b, a
		}
		switch hq.Sort {
		case "customer":
			if !strings.EqualFold(a.Customer, b.Customer) {
				return strings.ToLower(a.Customer) < strings.ToLower(b.Customer)
			}
			return strings.ToLower(a.Server) < strings.ToLower(b.Server)
		case "server":
			return strings.ToLower(a.Server) < strings.ToLower(b.Server)
		}
		return key(a) < key(b)
	})
	return out, nil
}

type historyPage struct {
	base
	Q     historyQuery
	Rows  []historyRow
	Links map[string]string // sort links per column
	Query string            // the range, for the CSV link
}

func (h *Handler) historyPage(w http.ResponseWriter, r *http.Request, s *session) error {
	hq, err := h.historyQueryOf(r.URL.Query())
	if err != nil {
		return err
	}
	rows, err := h.history(r.Context(), hq)
	if err != nil {
		return err
	}
	p := &historyPage{base: h.base(r, s, "Historical report"), Q: hq, Rows: rows, Links: map[string]string{},
		Query: "?" + url.Values{"from": {hq.From.String()}, "to": {hq.To.String()}}.Encode()}
	for _, col := range []string{"customer", "server", "expected", "ok", "okx", "failed", "missing"} {
		dir := "asc"
		if col == hq.Sort && hq.Dir == "asc" {
			dir = "desc"
		} else if col != hq.Sort && col != "customer" && col != "server" {
			dir = "desc" // counts: biggest first on the first click
		}
		p.Links[col] = "?" + url.Values{"from": {hq.From.String()}, "to": {hq.To.String()}, "sort": {col}, "dir": {dir}}.Encode()
	}
	return h.render(w, r, http.StatusOK, "history", p)
}
