package report

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// Cookie names.
const (
	sessionCookie = "br_session"
	loginCookie   = "br_login" // CSRF token of the login and setup forms, before any session
)

// session is who made a request: a browser session (with its CSRF token)
// or an API token (CSRF empty, never allowed to POST).
type session struct {
	User  store.User
	CSRF  string
	token string // the cookie value, for logout
}

// can reports whether the user's role reaches role.
func (s *session) can(role store.Role) bool { return s != nil && s.User.Role.AtLeast(role) }

// wrap applies a route's access rules: authentication, role and CSRF.
func (h *Handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asJSON := rt.access == machine
		var s *session
		if rt.access != public {
			s = h.authenticate(r, rt.access == machine)
			if s == nil {
				if asJSON {
					w.Header().Set("WWW-Authenticate", `Bearer realm="backupreport"`)
					writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "log in, or send an API token as Authorization: Bearer TOKEN"})
					return
				}
				if r.Method == http.MethodGet {
					http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				} else {
					http.Redirect(w, r, "/login", http.StatusSeeOther)
				}
				return
			}
			if must, err := h.needsEnrolment(r, s); err != nil {
				h.fail(w, r, s, asJSON, err)
				return
			} else if must {
				if r.Method == http.MethodGet && !asJSON {
					http.Redirect(w, r, "/account?enrol=1", http.StatusSeeOther)
				} else {
					h.fail(w, r, s, asJSON, errorf(http.StatusForbidden, "The admins require a second factor: enrol one on your account page (/account) first."))
				}
				return
			}
			if !s.can(rt.role) {
				h.fail(w, r, s, asJSON, errorf(http.StatusForbidden, "Your role (%s) may not do this; it needs %s.", s.User.Role, rt.role))
				return
			}
		}
		if r.Method == http.MethodPost && rt.access != public {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if s.CSRF == "" || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.CSRF)) != 1 {
				h.fail(w, r, s, asJSON, errorf(http.StatusForbidden, "The form was stale or did not come from this site (CSRF check). Reload the page and try again."))
				return
			}
		}
		if err := rt.handle(w, r, s); err != nil {
			h.fail(w, r, s, asJSON, err)
		}
	})
}

// authenticate finds the session cookie, or for machine routes also an
// API token in the Authorization header.
func (h *Handler) authenticate(r *http.Request, allowToken bool) *session {
	if allowToken {
		if auth := r.Header.Get("Authorization"); auth != "" {
			tok, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok {
				return nil
			}
			u, err := h.db.UserByAPIToken(r.Context(), strings.TrimSpace(tok))
			if err != nil {
				return nil
			}
			return &session{User: u}
		}
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	s, err := h.db.SessionByToken(r.Context(), c.Value)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.log.Error("load session", logkey.Err, err)
		}
		return nil
	}
	return &session{User: s.User, CSRF: s.CSRF, token: c.Value}
}

// secure tells whether cookies get the Secure flag (see Config.CookieSecure).
func (h *Handler) secure(r *http.Request) bool {
	return h.cfg.CookieSecure || h.originOf(r).HTTPS
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
}

// loginToken returns the CSRF token of the login form, setting its cookie.
func (h *Handler) loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 64 {
		return c.Value
	}
	tok := store.NewSecret()
	h.setCookie(w, r, loginCookie, tok, time.Hour)
	return tok
}

// checkLoginToken compares the form's token with the cookie's.
func checkLoginToken(r *http.Request) bool {
	c, err := r.Cookie(loginCookie)
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

type loginPage struct {
	base
	Next     string
	Username string
	Error    string
	NeedCode bool // the password was right; the second factor is asked
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, _ *session) error {
	if s := h.authenticate(r, false); s != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	p := &loginPage{base: h.base(r, nil, "Log in"), Next: safeNext(r.URL.Query().Get("next"))}
	p.CSRF = h.loginToken(w, r)
	return h.render(w, r, http.StatusOK, "login", p)
}

// safeNext keeps a redirect target on this site: a path, with no
// scheme or host, and no control characters or backslashes, which
// browsers drop or read as slashes ("/\t/evil.example" is "//evil.example").
func safeNext(next string) string {
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return u.RequestURI()
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request, _ *session) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	username, password := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
	p := &loginPage{base: h.base(r, nil, "Log in"), Next: safeNext(r.PostFormValue("next")), Username: username}
	p.CSRF = h.loginToken(w, r)
	if !checkLoginToken(r) {
		p.Error = "The form was stale (CSRF check). Please try again."
		return h.render(w, r, http.StatusForbidden, "login", p)
	}
	addr := h.originOf(r).Addr
	if wait := h.limiter.take(formLogin, username, addr); wait > 0 {
		p.Error = retryMessage(wait)
		w.Header().Set("Retry-After", fmt.Sprint(retrySeconds(wait)))
		return h.render(w, r, http.StatusTooManyRequests, "login", p)
	}
	u, err := h.db.Authenticate(r.Context(), username, password)
	if errors.Is(err, store.ErrBadLogin) {
		h.wm.loginFailures.WithLabelValues(formLogin).Inc()
		h.log.Info("login failed", logkey.Username, username, logkey.RemoteAddr, addr)
		p.Error = "Wrong username or password."
		return h.render(w, r, http.StatusUnauthorized, "login", p)
	}
	if err != nil {
		h.limiter.giveBack(username, addr)
		return err
	}
	h.limiter.succeeded(username, addr)
	if t, err := h.db.UserTOTP(r.Context(), u.ID); err != nil {
		return err
	} else if t.Secret != "" {
		return h.askCode(w, r, u, p)
	}
	if err := h.startSession(w, r, u); err != nil {
		return err
	}
	h.log.Info("login", logkey.Username, u.Username, logkey.RemoteAddr, addr)
	http.Redirect(w, r, p.Next, http.StatusSeeOther)
	return nil
}

func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, u store.User) error {
	tok, _, err := h.db.CreateSession(r.Context(), u.ID, h.cfg.SessionTTL)
	if err != nil {
		return err
	}
	h.setCookie(w, r, sessionCookie, tok, h.cfg.SessionTTL)
	return nil
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.db.DeleteSession(r.Context(), s.token); err != nil {
		return err
	}
	h.setCookie(w, r, sessionCookie, "", -time.Second)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// PrepareFirstRun makes a one-time setup token when there are no users
// yet, stores its hash and returns it; it returns "" when users exist,
// and then deletes any token left from an earlier run. Each call replaces
// an earlier token.
func PrepareFirstRun(ctx context.Context, db *store.DB) (string, error) {
	n, err := db.CountUsers(ctx)
	if err != nil {
		return "", err
	}
	if n > 0 {
		if err := db.DeleteSetting(ctx, store.SettingSetupToken); err != nil {
			return "", fmt.Errorf("delete the first-run token: %w", err)
		}
		return "", nil
	}
	tok := store.NewSecret()
	if err := db.SetSetting(ctx, store.SettingSetupToken, store.HashSecret(tok)); err != nil {
		return "", err
	}
	return tok, nil
}

// checkSetupLink accepts a first-run link while no user exists and tok
// matches the stored hash. Once any user exists (made by the link, by
// 'user add' or on the staff page) the link is gone: it answers 410 and a
// hash still stored is deleted. A wrong token answers 404.
func (h *Handler) checkSetupLink(ctx context.Context, tok string) error {
	want, err := h.db.Setting(ctx, store.SettingSetupToken)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	n, err := h.db.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		if want != "" {
			if err := h.db.DeleteSetting(ctx, store.SettingSetupToken); err != nil {
				return fmt.Errorf("delete the first-run token: %w", err)
			}
		}
		return errorf(http.StatusGone, "The first-run link is gone: a staff account exists. Log in, or ask an admin for an account.")
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(store.HashSecret(tok))) != 1 {
		return errorf(http.StatusNotFound, "This first-run link is not valid (any more). Restart serve to get a new one while no user exists, or use 'backupreport user add'.")
	}
	return nil
}

type setupPage struct {
	base
	Token    string
	Username string
	Email    string
	Error    string
}

func (h *Handler) setupPage(w http.ResponseWriter, r *http.Request, _ *session) error {
	tok := r.PathValue("token")
	if err := h.checkSetupLink(r.Context(), tok); err != nil {
		return err
	}
	p := &setupPage{base: h.base(r, nil, "Create the first admin"), Token: tok}
	p.CSRF = h.loginToken(w, r)
	return h.render(w, r, http.StatusOK, "setup", p)
}

func (h *Handler) setup(w http.ResponseWriter, r *http.Request, _ *session) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	tok := r.PathValue("token")
	if err := h.checkSetupLink(r.Context(), tok); err != nil {
		return err
	}
	p := &setupPage{base: h.base(r, nil, "Create the first admin"), Token: tok,
		Username: strings.TrimSpace(r.PostFormValue("username")), Email: strings.TrimSpace(r.PostFormValue("email"))}
	p.CSRF = h.loginToken(w, r)
	if !checkLoginToken(r) {
		p.Error = "The form was stale (CSRF check). Please try again."
		return h.render(w, r, http.StatusForbidden, "setup", p)
	}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		p.Error = "The two passwords differ."
		return h.render(w, r, http.StatusBadRequest, "setup", p)
	}
	u, err := h.db.AddFirstAdmin(r.Context(), p.Username, p.Email, r.PostFormValue("password"))
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errorf(http.StatusGone, "The first-run link is gone: a staff account exists. Log in instead.")
		}
		p.Error = err.Error()
		return h.render(w, r, http.StatusBadRequest, "setup", p)
	}
	h.log.Info("first admin created", logkey.Username, u.Username, logkey.RemoteAddr, h.originOf(r).Addr)
	if err := h.startSession(w, r, u); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
