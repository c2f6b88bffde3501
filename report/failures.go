package report

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// failureEntry is one server in a failure report.
type failureEntry struct {
	store.FailureEntry
	Verdict verdict
	Info    parser.CodeInfo
	URL     string
}

type failureGroup struct {
	Customer string
	CSR, TSR string
	Entries  []failureEntry
}

type failuresPage struct {
	base
	Kind   string
	Groups []failureGroup
	Count  int
}

// failures lists the servers of a failure report, from the same store
// query the e-mails use, so that the page and the e-mail agree.
func (h *Handler) failures(ctx context.Context, kind string) ([]failureEntry, error) {
	entries, err := h.db.FailureReport(ctx, kind, h.cfg.Now(), h.loc)
	if err != nil {
		return nil, err
	}
	codes, err := h.db.CodeTable(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]failureEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, failureEntry{FailureEntry: e, Verdict: verdictOf(e.Status, 0), Info: codes.Lookup(e.Code), URL: serverURL(e.Customer, e.Server)})
	}
	return out, nil
}

func (h *Handler) failuresPage(kind string) func(http.ResponseWriter, *http.Request, *session) error {
	title := map[string]string{"daily": "Daily failure report", "three-day": "Three-day failure report"}[kind]
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		entries, err := h.failures(r.Context(), kind)
		if err != nil {
			return err
		}
		custs, err := h.db.Customers(r.Context())
		if err != nil {
			return err
		}
		staff := map[string][2]string{}
		for _, c := range custs {
			staff[strings.ToLower(c.Slug)] = [2]string{c.CSR, c.TSR}
		}
		p := &failuresPage{base: h.base(r, s, title), Kind: kind, Count: len(entries)}
		idx := map[string]int{}
		for _, e := range entries {
			i, ok := idx[e.Customer]
			if !ok {
				st := staff[strings.ToLower(e.Customer)]
				i = len(p.Groups)
				idx[e.Customer] = i
				p.Groups = append(p.Groups, failureGroup{Customer: e.Customer, CSR: st[0], TSR: st[1]})
			}
			p.Groups[i].Entries = append(p.Groups[i].Entries, e)
		}
		for _, g := range p.Groups {
			sort.SliceStable(g.Entries, func(i, j int) bool { return g.Entries[i].Status.Order() < g.Entries[j].Status.Order() })
		}
		return h.render(w, r, http.StatusOK, "failures", p)
	}
}
