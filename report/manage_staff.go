package report

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/backupreport/backupreport/report/password"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// updateUser changes a user's role, email and whether the failure emails
// go to them (admin); an admin cannot take away their own admin role.
func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errorf(http.StatusNotFound, "No such user.")
	}
	if id == s.User.ID && store.Role(r.PostFormValue("role")) != store.RoleAdmin {
		return errorf(http.StatusBadRequest, "You cannot take away your own admin role.")
	}
	u := store.User{ID: id, Role: store.Role(r.PostFormValue("role")), Email: r.PostFormValue("email"), Notify: r.PostFormValue("notify") != ""}
	if err := h.db.UpdateUser(r.Context(), actor(s), u); err != nil {
		return badRequest(err)
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}

// resetPassword gives a user a new generated password, shown once.
func (h *Handler) resetPassword(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errorf(http.StatusNotFound, "No such user.")
	}
	u, err := h.db.UserByID(r.Context(), id)
	if err != nil {
		return err
	}
	pw := password.Generate()
	if err := h.db.SetPassword(r.Context(), actor(s), id, pw); err != nil {
		return err
	}
	p := &usersPage{base: h.base(r, s, "Staff"), NewUser: u.Username, NewPassword: pw, Reset: true}
	if p.Users, err = h.db.Users(r.Context()); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "users", p)
}

// changePassword sets a new password after checking the current one.
// Wrong current passwords count against (username, address) in the same
// throttle as logins: a stolen session must not become a way to guess.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, s *session) error {
	p := &accountPage{base: h.base(r, s, "Your account")}
	addr := h.originOf(r).Addr
	if wait := h.limiter.take(formPassword, s.User.Username, addr); wait > 0 {
		p.Error = retryMessage(wait)
		w.Header().Set("Retry-After", fmt.Sprint(retrySeconds(wait)))
		return h.renderAccount(w, r, s, http.StatusTooManyRequests, p, "")
	}
	_, err := h.db.Authenticate(r.Context(), s.User.Username, r.PostFormValue("old"))
	if errors.Is(err, store.ErrBadLogin) {
		h.wm.loginFailures.WithLabelValues(formPassword).Inc()
		h.log.Info("password change: wrong current password", logkey.Username, s.User.Username, logkey.RemoteAddr, addr)
		p.Error = "Your current password is wrong."
		return h.renderAccount(w, r, s, http.StatusBadRequest, p, "")
	}
	if err != nil {
		h.limiter.giveBack(s.User.Username, addr)
		return err
	}
	h.limiter.succeeded(s.User.Username, addr)
	if r.PostFormValue("new") != r.PostFormValue("new2") {
		p.Error = "The two new passwords differ."
		return h.renderAccount(w, r, s, http.StatusBadRequest, p, "")
	}
	if err := h.db.SetPassword(r.Context(), actor(s), s.User.ID, r.PostFormValue("new")); err != nil {
		p.Error = err.Error()
		return h.renderAccount(w, r, s, http.StatusBadRequest, p, "")
	}
	// SetPassword ended every session, this one too: start a new one.
	if err := h.startSession(w, r, s.User); err != nil {
		return err
	}
	http.Redirect(w, r, "/account?changed=1", http.StatusSeeOther)
	return nil
}
