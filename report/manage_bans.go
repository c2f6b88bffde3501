package report

import (
	"net/http"

	"github.com/backupreport/backupreport/store"
)

// bansPage is /bans (admin): the source addresses the SSH endpoint refuses
// after too many failed logins, with a button to lift each ban.
type bansPage struct {
	base
	Bans  []store.Ban
	Limit int
}

// bansLimit bounds the bans listed; the page says when there are more.
const bansLimit = 500

func (h *Handler) bansPage(w http.ResponseWriter, r *http.Request, s *session) error {
	bs, err := h.db.Bans(r.Context(), h.cfg.Now(), bansLimit)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "bans", &bansPage{base: h.base(r, s, "SSH bans"), Bans: bs, Limit: bansLimit})
}

// liftBan ends a ban in the running SSH server and in the store, audited.
func (h *Handler) liftBan(w http.ResponseWriter, r *http.Request, s *session) error {
	lift := h.cfg.LiftBan
	if lift == nil {
		lift = h.db.LiftBan
	}
	if err := lift(r.Context(), actor(s), r.PostFormValue("address")); err != nil {
		return badRequest(err)
	}
	return back(w, r, "/bans")
}
