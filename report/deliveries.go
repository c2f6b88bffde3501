package report

import (
	"net/http"

	"github.com/backupreport/backupreport/store"
)

// deliveriesPage lists the emails and webhooks sent or being retried, with
// their attempts and last error: where an admin looks when a morning
// report did not arrive.
type deliveriesPage struct {
	base
	Deliveries []store.EmailAttempt
}

const deliveriesLimit = 200

func (h *Handler) deliveriesPage(w http.ResponseWriter, r *http.Request, s *session) error {
	ds, err := h.db.EmailLog(r.Context(), deliveriesLimit)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "deliveries", &deliveriesPage{base: h.base(r, s, "Emails and webhooks"), Deliveries: ds})
}
