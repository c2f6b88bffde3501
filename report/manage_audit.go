package report

import (
	"net/http"
	"strings"

	"github.com/backupreport/backupreport/store"
)

// auditPage is /audit (admin): every change by staff, by the command line
// or by re-evaluation, newest first, with a search.
type auditPage struct {
	base
	Entries []store.AuditEntry
	Q       string
}

const auditLimit = 500

func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, s *session) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	es, err := h.db.Audit(r.Context(), 5000)
	if err != nil {
		return err
	}
	p := &auditPage{base: h.base(r, s, "Audit log"), Q: q}
	lq := strings.ToLower(q)
	for _, e := range es {
		if len(p.Entries) >= auditLimit {
			break
		}
		if lq == "" || strings.Contains(strings.ToLower(e.Actor+" "+e.RemoteAddr+" "+e.Action+" "+e.Object), lq) {
			p.Entries = append(p.Entries, e)
		}
	}
	return h.render(w, r, http.StatusOK, "audit", p)
}
