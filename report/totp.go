package report

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
)

// The second factor for staff is TOTP (RFC 6238: 30-second steps, six
// digits, SHA-1, as every authenticator app reads it), plus ten one-time
// recovery codes. A code is accepted for the step before, the current
// and the next one (clocks drift), and only for a step later than the
// last accepted one, so each code works once.
const (
	totpPeriod        = 30
	totpSkew          = 1
	recoveryCodes     = 10
	loginChallengeTTL = 5 * time.Minute
	// defaultLoginCodeTries is how many codes one password login may try;
	// then the password must be given again (and is throttled as usual).
	defaultLoginCodeTries = 5
	// defaultPendingLogins bounds the logins waiting for their code; at
	// the bound the oldest is dropped (its user types the password again).
	defaultPendingLogins = 1000
	challengeCookie      = "br_2fa"
)

// challenges are the logins waiting for their second factor. They live
// in the database (store.LoginChallenge), so that the code may be typed
// on any node, and survive a restart of serve.
type challenges struct {
	db   *store.DB
	max  int
	log  *slog.Logger
	wm   *webMetrics
	mu   sync.Mutex
	full bool // the bound was reached; logged once until it is not
}

// put stores a challenge and returns the browser's secret.
func (c *challenges) put(ctx context.Context, userID int64, next string) (string, error) {
	tok, dropped, waiting, err := c.db.PutLoginChallenge(ctx, userID, next, loginChallengeTTL, c.max)
	if err != nil {
		return "", err
	}
	c.wm.pendingLogins.Set(float64(waiting))
	c.mu.Lock()
	defer c.mu.Unlock()
	if dropped > 0 {
		c.wm.pendingDropped.Add(float64(dropped))
		if !c.full {
			c.full = true
			c.log.Warn("logins waiting for their code: full; dropping the oldest", logkey.Max, c.max)
		}
	} else if waiting < c.max/2 {
		c.full = false
	}
	return tok, nil
}

// get returns the live challenge of tok, or false.
func (c *challenges) get(ctx context.Context, tok string) (store.LoginChallenge, bool, error) {
	ch, err := c.db.LoginChallenge(ctx, tok)
	if errors.Is(err, store.ErrNotFound) {
		return ch, false, nil
	}
	return ch, err == nil, err
}

// failed counts a wrong code and returns the count so far.
func (c *challenges) failed(ctx context.Context, tok string) (int, error) {
	return c.db.FailLoginChallenge(ctx, tok)
}

// drop ends a challenge.
func (c *challenges) drop(ctx context.Context, tok string) error {
	if err := c.db.DeleteLoginChallenge(ctx, tok); err != nil {
		return err
	}
	if n, err := c.db.LoginChallengesWaiting(ctx); err == nil {
		c.wm.pendingLogins.Set(float64(n))
	}
	return nil
}

// totpStep checks code against secret at now and returns the step it is
// the code of; ok is false when it is none of the allowed steps.
func totpStep(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for s := cur - totpSkew; s <= cur+totpSkew; s++ {
		want, err := hotp.GenerateCode(secret, uint64(s))
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// newRecoveryCodes makes the codes shown once and their stored hashes.
// A code is ten letters and digits in two groups ("k7m2q-x9d4t"), from
// an alphabet without look-alikes: 50 bits each.
func newRecoveryCodes() (codes, hashes []string) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	for range recoveryCodes {
		b := make([]byte, 10)
		rand.Read(b)
		var sb strings.Builder
		for i, x := range b {
			if i == 5 {
				sb.WriteByte('-')
			}
			sb.WriteByte(alphabet[int(x)%len(alphabet)])
		}
		codes = append(codes, sb.String())
		hashes = append(hashes, store.HashSecret(sb.String()))
	}
	return codes, hashes
}

// normalizeRecoveryCode accepts a code typed with or without its dash,
// in any case, with blanks around.
func normalizeRecoveryCode(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), ""))
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 10 {
		return ""
	}
	return s[:5] + "-" + s[5:]
}

// qrSVG draws text as a QR code in SVG, one rect per dark module, with
// the four-module quiet zone scanners want.
func qrSVG(text string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	b := code.Bounds()
	n := b.Dx()
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges" role="img" aria-label="QR code of the TOTP secret" id="totp-qr"><rect width="100%%" height="100%%" fill="#fff"/><g fill="#000">`,
		n+8, n+8, (n+8)*5, (n+8)*5)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < n; x++ {
			if r, _, _, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA(); r < 0x8000 {
				fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="1" height="1"/>`, x+4, y+4)
			}
		}
	}
	sb.WriteString(`</g></svg>`)
	return template.HTML(sb.String()), nil // built above from numbers only
}

// accountPage is the account page: password and second factor.
type accountPage struct {
	base
	Error string
	Done  bool
	// TOTP is on; Left recovery codes remain.
	TOTP     bool
	Left     int
	Required bool // the admins require a second factor
	// While not enrolled: a fresh secret to enrol, as QR and as text.
	Secret   string
	QR       template.HTML
	Codes    []string // recovery codes, shown once after enrolment
	Enrolled bool
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request, s *session) error {
	p := &accountPage{base: h.base(r, s, "Your account"), Done: r.URL.Query().Get("changed") != ""}
	return h.renderAccount(w, r, s, http.StatusOK, p, "")
}

// renderAccount fills in the second factor's part of the account page;
// secret, when given, is the one being enrolled (after a wrong code).
func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, s *session, status int, p *accountPage, secret string) error {
	ctx := r.Context()
	t, err := h.db.UserTOTP(ctx, s.User.ID)
	if err != nil {
		return err
	}
	if p.Required, err = h.db.RequireTOTP(ctx); err != nil {
		return err
	}
	p.TOTP = t.Secret != ""
	if p.TOTP {
		if p.Left, err = h.db.RecoveryCodesLeft(ctx, s.User.ID); err != nil {
			return err
		}
	} else {
		if secret == "" {
			key, err := totp.Generate(totp.GenerateOpts{Issuer: "backupreport", AccountName: s.User.Username})
			if err != nil {
				return fmt.Errorf("new totp secret: %w", err)
			}
			secret = key.Secret()
		}
		p.Secret = secret
		u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/backupreport:" + s.User.Username,
			RawQuery: url.Values{"secret": {secret}, "issuer": {"backupreport"}, "period": {"30"}, "digits": {"6"}, "algorithm": {"SHA1"}}.Encode()}
		if p.QR, err = qrSVG(u.String()); err != nil {
			return err
		}
	}
	return h.render(w, r, status, "account", p)
}

// enrolTOTP turns the second factor on once a code of the new secret is
// right, and shows the recovery codes once.
func (h *Handler) enrolTOTP(w http.ResponseWriter, r *http.Request, s *session) error {
	secret := strings.TrimSpace(r.PostFormValue("secret"))
	p := &accountPage{base: h.base(r, s, "Your account")}
	if len(secret) < 16 || len(secret) > 128 {
		return errorf(http.StatusBadRequest, "The enrolment form was damaged; reload the account page.")
	}
	// A second factor is replaced only after turning it off, which takes
	// the password: a stolen session cannot move it to another phone.
	if t, err := h.db.UserTOTP(r.Context(), s.User.ID); err != nil {
		return err
	} else if t.Secret != "" {
		return errorf(http.StatusConflict, "Your second factor is on already. To move it to another phone, turn it off (with your password) and enrol again.")
	}
	step, ok := totpStep(secret, r.PostFormValue("code"), h.cfg.Now())
	if !ok {
		p.Error = "That code does not match. Check the phone's clock and type the code the app shows now."
		return h.renderAccount(w, r, s, http.StatusBadRequest, p, secret)
	}
	codes, hashes := newRecoveryCodes()
	if err := h.db.EnableTOTP(r.Context(), actor(s), s.User.ID, secret, step, hashes); err != nil {
		return err
	}
	h.log.Info("second factor enrolled", logkey.Username, s.User.Username)
	p.Codes, p.Enrolled = codes, true
	return h.renderAccount(w, r, s, http.StatusOK, p, "")
}

// disableTOTP turns one's own second factor off, after the password;
// not while the admins require one.
func (h *Handler) disableTOTP(w http.ResponseWriter, r *http.Request, s *session) error {
	p := &accountPage{base: h.base(r, s, "Your account")}
	req, err := h.db.RequireTOTP(r.Context())
	if err != nil {
		return err
	}
	if req {
		return errorf(http.StatusForbidden, "The admins require a second factor for all staff; it cannot be turned off. An admin can reset it on the Staff page.")
	}
	addr := h.originOf(r).Addr
	if wait := h.limiter.take(formPassword, s.User.Username, addr); wait > 0 {
		p.Error = retryMessage(wait)
		return h.renderAccount(w, r, s, http.StatusTooManyRequests, p, "")
	}
	if _, err := h.db.Authenticate(r.Context(), s.User.Username, r.PostFormValue("password")); err != nil {
		if errors.Is(err, store.ErrBadLogin) {
			p.Error = "Wrong password."
			return h.renderAccount(w, r, s, http.StatusUnauthorized, p, "")
		}
		return err
	}
	h.limiter.succeeded(s.User.Username, addr)
	if err := h.db.ResetTOTP(r.Context(), actor(s), s.User.ID); err != nil {
		return err
	}
	// ResetTOTP ended the sessions, this one too.
	if err := h.startSession(w, r, s.User); err != nil {
		return err
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
	return nil
}

// resetTOTP removes a user's second factor (admin; audited). The user
// logs in with the password alone and enrols again.
func (h *Handler) resetTOTP(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errorf(http.StatusNotFound, "No such user.")
	}
	if err := h.db.ResetTOTP(r.Context(), actor(s), id); err != nil {
		return err
	}
	h.log.Info("second factor reset", logkey.Username, s.User.Username, logkey.UserID, id)
	if id == s.User.ID {
		if err := h.startSession(w, r, s.User); err != nil {
			return err
		}
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}

// requireTOTP turns the requirement for all staff on or off (admin).
func (h *Handler) requireTOTP(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.db.SetRequireTOTP(r.Context(), actor(s), r.PostFormValue("require") == "1"); err != nil {
		return err
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}

// needsEnrolment tells whether a browser session must enrol a second
// factor before it may use rt: the admins require one and the user has
// none. The account page, enrolment and logout stay open.
func (h *Handler) needsEnrolment(r *http.Request, s *session) (bool, error) {
	if s == nil || s.token == "" {
		return false, nil // API tokens are not affected
	}
	switch r.URL.Path {
	case "/account", "/account/totp", "/account/password", "/logout":
		return false, nil
	}
	req, err := h.db.RequireTOTP(r.Context())
	if err != nil || !req {
		return false, err
	}
	t, err := h.db.UserTOTP(r.Context(), s.User.ID)
	if err != nil {
		return false, err
	}
	return t.Secret == "", nil
}

// askCode is the second step of a login: the password was right and the
// user has a second factor.
func (h *Handler) askCode(w http.ResponseWriter, r *http.Request, u store.User, p *loginPage) error {
	tok, err := h.codes.put(r.Context(), u.ID, p.Next)
	if err != nil {
		return err
	}
	h.setCookie(w, r, challengeCookie, tok, loginChallengeTTL)
	p.NeedCode = true
	return h.render(w, r, http.StatusOK, "login", p)
}

// loginCode checks the code (or a recovery code) of a login waiting for it.
func (h *Handler) loginCode(w http.ResponseWriter, r *http.Request, _ *session) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	p := &loginPage{base: h.base(r, nil, "Log in"), NeedCode: true}
	p.CSRF = h.loginToken(w, r)
	if !checkLoginToken(r) {
		p.Error = "The form was stale (CSRF check). Please try again."
		return h.render(w, r, http.StatusForbidden, "login", p)
	}
	var ch store.LoginChallenge
	var key string
	found := false
	if c, err := r.Cookie(challengeCookie); err == nil {
		key = c.Value
		if ch, found, err = h.codes.get(r.Context(), key); err != nil {
			return err
		}
	}
	if !found {
		p.NeedCode = false
		p.Error = "The login took too long or was not started here; give your username and password again."
		return h.render(w, r, http.StatusUnauthorized, "login", p)
	}
	p.Next, p.Username = ch.Next, ch.Username
	addr := h.originOf(r).Addr
	// Codes are throttled like passwords, under their own name, so that
	// a right password does not wipe out wrong codes.
	throttleName := "code:" + ch.Username
	if wait := h.limiter.take(formCode, throttleName, addr); wait > 0 {
		p.Error = retryMessage(wait)
		w.Header().Set("Retry-After", fmt.Sprint(retrySeconds(wait)))
		return h.render(w, r, http.StatusTooManyRequests, "login", p)
	}
	ctx := r.Context()
	code := r.PostFormValue("code")
	ok := false
	var why string
	var err error
	if rc := normalizeRecoveryCode(code); rc != "" {
		if ok, err = h.db.UseRecoveryCode(ctx, "web:"+ch.Username, ch.UserID, store.HashSecret(rc)); err != nil {
			return err
		}
		why = "That recovery code is wrong or was used already."
	} else {
		t, err := h.db.UserTOTP(ctx, ch.UserID)
		if err != nil {
			return err
		}
		why = "Wrong code. Type the six digits your app shows now, or a recovery code."
		if step, match := totpStep(t.Secret, code, h.cfg.Now()); match && t.Secret != "" {
			if ok, err = h.db.UseTOTPStep(ctx, ch.UserID, step); err != nil {
				return err
			}
			if !ok {
				why = "That code was used already. Wait for the next one (up to 30 seconds)."
			}
		}
	}
	if !ok {
		h.wm.loginFailures.WithLabelValues(formCode).Inc()
		h.log.Info("login code wrong", logkey.Username, ch.Username, logkey.RemoteAddr, addr)
		tries, err := h.codes.failed(ctx, key)
		if err != nil {
			return err
		}
		if tries >= h.cfg.LoginCodeTries {
			if err := h.codes.drop(ctx, key); err != nil {
				return err
			}
			p.NeedCode = false
			why += " Too many tries: give your password again."
		}
		p.Error = why
		return h.render(w, r, http.StatusUnauthorized, "login", p)
	}
	h.limiter.succeeded(throttleName, addr)
	if err := h.codes.drop(ctx, key); err != nil {
		return err
	}
	h.setCookie(w, r, challengeCookie, "", -time.Second)
	u, err := h.db.UserByID(ctx, ch.UserID)
	if err != nil {
		return err
	}
	if !u.Active {
		return errorf(http.StatusForbidden, "This account is disabled.")
	}
	if err := h.startSession(w, r, u); err != nil {
		return err
	}
	h.log.Info("login", logkey.Username, u.Username, logkey.RemoteAddr, addr, logkey.SecondFactor, true)
	http.Redirect(w, r, ch.Next, http.StatusSeeOther)
	return nil
}
