package report

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/backupreport/backupreport/keys"
	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// reevalWait is how long an exception change waits for the re-evaluation
// of the last 7 days before answering; a longer one goes on in the
// background (it never blocks uploads: see store.Reevaluate).
const reevalWait = 5 * time.Second

// actor names a web user in the audit log.
func actor(s *session) string { return "web:" + s.User.Username }

// badRequest turns validation errors into 400s, keeping 404 and 409.
func badRequest(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return err
	}
	return errorf(http.StatusBadRequest, "%v", err)
}

// back redirects to the form's "back" field, or to def.
func back(w http.ResponseWriter, r *http.Request, def string) error {
	to := r.PostFormValue("back")
	if to == "" {
		to = def
	}
	http.Redirect(w, r, safeNext(to), http.StatusSeeOther)
	return nil
}

// reevaluate re-judges the last 7 days of the results an exception
// applies to, waiting at most reevalWait; the rest goes on in the
// background. It reports whether it finished.
func (h *Handler) reevaluate(e store.Exception, s *session, reason string) bool {
	done := make(chan struct{})
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		defer close(done)
		ctx, cancel := context.WithTimeout(h.bgCtx, time.Hour)
		defer cancel()
		st, err := h.db.Reevaluate(ctx, store.ReevalOptions{Since: h.cfg.Now().Add(-store.ReevalWindow), OnlyFileErrors: true, ServerID: e.ServerID, CustomerID: e.CustomerID,
			Actor: actor(s), Reason: reason})
		if err != nil {
			h.log.Error("reevaluate", "exception", e.ID, "err", err)
			return
		}
		h.log.Info("reevaluated", "exception", e.ID, "results", st.Results, "changed", st.Changed, "duration", st.Duration)
	}()
	select {
	case <-done:
		return true
	case <-time.After(reevalWait):
		return false
	}
}

// Wait waits for background re-evaluations started by exception changes
// to finish; when ctx ends first it cancels them (each batch is committed
// on its own, so a cancelled run leaves consistent results) and waits for
// them to stop. serve calls it on shutdown, before closing the database.
func (h *Handler) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { h.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.bgCancel()
		<-done
		return ctx.Err()
	}
}

// ---- Customers ----

type customersPage struct {
	base
	Customers []store.Customer
	Servers   map[int64]int
	CanManage bool
}

func (h *Handler) customersPage(w http.ResponseWriter, r *http.Request, s *session) error {
	cs, err := h.db.Customers(r.Context())
	if err != nil {
		return err
	}
	ss, err := h.db.Servers(r.Context())
	if err != nil {
		return err
	}
	p := &customersPage{base: h.base(r, s, "Customers"), Customers: cs, Servers: map[int64]int{}, CanManage: s.can(store.RoleTech)}
	for _, sv := range ss {
		if !sv.Retired {
			p.Servers[sv.CustomerID]++
		}
	}
	return h.render(w, r, http.StatusOK, "customers", p)
}

func (h *Handler) addCustomer(w http.ResponseWriter, r *http.Request, s *session) error {
	slug := strings.TrimSpace(r.PostFormValue("slug"))
	c, err := h.db.AddCustomer(r.Context(), actor(s), store.Customer{Slug: slug, Name: strings.TrimSpace(r.PostFormValue("name"))})
	if err != nil {
		return badRequest(err)
	}
	http.Redirect(w, r, "/customers/"+url.PathEscape(c.Slug), http.StatusSeeOther)
	return nil
}

type customerPage struct {
	base
	Customer  store.Customer
	Servers   []store.Server
	Keys      []store.Key
	Staff     []store.User
	CanManage bool
}

func (h *Handler) customerPage(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	c, err := h.db.CustomerBySlug(ctx, r.PathValue("customer"))
	if err != nil {
		return err
	}
	p := &customerPage{base: h.base(r, s, "Customer "+c.Slug), Customer: c, CanManage: s.can(store.RoleTech)}
	ss, err := h.db.Servers(ctx)
	if err != nil {
		return err
	}
	for _, sv := range ss {
		if sv.CustomerID == c.ID {
			p.Servers = append(p.Servers, sv)
		}
	}
	ks, err := h.db.Keys(ctx)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if k.CustomerID == c.ID {
			p.Keys = append(p.Keys, k)
		}
	}
	if p.Staff, err = h.db.Users(ctx); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "customer", p)
}

func (h *Handler) userIDByName(ctx context.Context, name string) (*int64, error) {
	if name == "" {
		return nil, nil
	}
	u, err := h.db.UserByName(ctx, name)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "There is no user %q.", name)
	}
	return &u.ID, nil
}

func (h *Handler) updateCustomer(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	c, err := h.db.CustomerBySlug(ctx, r.PathValue("customer"))
	if err != nil {
		return err
	}
	switch r.PostFormValue("action") {
	case "deactivate":
		c.Active = false
	case "activate":
		c.Active = true
	default:
		if name := strings.TrimSpace(r.PostFormValue("name")); name != "" {
			c.Name = name
		}
		if c.CSRID, err = h.userIDByName(ctx, r.PostFormValue("csr")); err != nil {
			return err
		}
		if c.TSRID, err = h.userIDByName(ctx, r.PostFormValue("tsr")); err != nil {
			return err
		}
		c.Note = strings.TrimSpace(r.PostFormValue("note"))
	}
	if err := h.db.UpdateCustomer(ctx, actor(s), c); err != nil {
		return badRequest(err)
	}
	http.Redirect(w, r, "/customers/"+url.PathEscape(c.Slug), http.StatusSeeOther)
	return nil
}

// ---- Servers ----

type serversPage struct {
	base
	Servers   []store.Server
	Customers []store.Customer
	New       int
	CanManage bool
}

func (h *Handler) serversPage(w http.ResponseWriter, r *http.Request, s *session) error {
	ss, err := h.db.Servers(r.Context())
	if err != nil {
		return err
	}
	cs, err := h.db.Customers(r.Context())
	if err != nil {
		return err
	}
	p := &serversPage{base: h.base(r, s, "Servers"), Customers: cs, CanManage: s.can(store.RoleTech)}
	// New servers waiting for approval first.
	for _, sv := range ss {
		if sv.Pending {
			p.Servers = append(p.Servers, sv)
		}
	}
	p.New = len(p.Servers)
	for _, sv := range ss {
		if !sv.Pending {
			p.Servers = append(p.Servers, sv)
		}
	}
	return h.render(w, r, http.StatusOK, "servers", p)
}

func (h *Handler) addServer(w http.ResponseWriter, r *http.Request, s *session) error {
	sv, err := h.db.AddServer(r.Context(), actor(s), r.PostFormValue("customer"), strings.TrimSpace(r.PostFormValue("name")), false)
	if err != nil {
		return badRequest(err)
	}
	return back(w, r, serverURL(sv.Customer, sv.Name))
}

// daysOf reads the weekday checkboxes day0 (Sunday) .. day6.
func daysOf(r *http.Request) int {
	m := 0
	for d := 0; d < 7; d++ {
		if r.PostFormValue("day"+strconv.Itoa(d)) != "" {
			m |= 1 << d
		}
	}
	return m
}

func (h *Handler) updateServer(w http.ResponseWriter, r *http.Request, s *session) error {
	sv, err := h.serverByPath(r)
	if err != nil {
		return err
	}
	switch r.PostFormValue("action") {
	case "approve":
		sv.Pending = false
	case "retire":
		sv.Retired = true
	case "reactivate":
		sv.Retired = false
	default:
		if name := strings.TrimSpace(r.PostFormValue("name")); name != "" {
			sv.Name = name
		}
		if sv.ExpectDays = daysOf(r); sv.ExpectDays == 0 {
			return errorf(http.StatusBadRequest, "Choose at least one weekday, or retire the server.")
		}
	}
	if err := h.db.UpdateServer(r.Context(), actor(s), sv); err != nil {
		return badRequest(err)
	}
	return back(w, r, serverURL(sv.Customer, sv.Name))
}

// ---- Keys ----

type keyView struct {
	store.Key
	Legacy []string
}

type keysPage struct {
	base
	Keys      []keyView
	Scopes    []string
	CanManage bool
	Legacy    bool // the legacy-crypto view
	Customers []string
	Error     string
}

// legacyReasons says why a key or its last login uses old cryptography:
// DSA keys, short RSA keys, SHA-1 signatures, and weak key exchange,
// ciphers or MACs. It is the worklist for moving customers to modern keys.
func legacyReasons(k store.Key) []string {
	var out []string
	if k.Type == "ssh-dss" {
		out = append(out, "DSA key")
	}
	if k.Type == "ssh-rsa" && k.Bits > 0 && k.Bits < 2048 {
		out = append(out, fmt.Sprintf("RSA key of %d bits", k.Bits))
	}
	l := k.Login
	switch l.SigAlgo {
	case "ssh-rsa":
		out = append(out, "SHA-1 signature (ssh-rsa)")
	case "ssh-dss":
		if k.Type != "ssh-dss" {
			out = append(out, "DSA signature")
		}
	}
	switch {
	case l.Kex == "diffie-hellman-group1-sha1", l.Kex == "diffie-hellman-group14-sha1", l.Kex == "diffie-hellman-group-exchange-sha1":
		out = append(out, "weak key exchange "+l.Kex)
	}
	if strings.HasSuffix(l.Cipher, "-cbc") || strings.HasPrefix(l.Cipher, "arcfour") || strings.HasPrefix(l.Cipher, "3des") {
		out = append(out, "weak cipher "+l.Cipher)
	}
	if strings.HasPrefix(l.MAC, "hmac-sha1") || strings.HasPrefix(l.MAC, "hmac-md5") {
		out = append(out, "weak MAC "+l.MAC)
	}
	return out
}

func (h *Handler) keysPageData(r *http.Request, s *session, legacy bool) (*keysPage, error) {
	ctx := r.Context()
	ks, err := h.db.Keys(ctx)
	if err != nil {
		return nil, err
	}
	title := "Keys"
	if legacy {
		title = "Legacy crypto"
	}
	p := &keysPage{base: h.base(r, s, title), CanManage: s.can(store.RoleTech), Legacy: legacy}
	custs := map[string]bool{}
	for _, k := range ks {
		v := keyView{Key: k, Legacy: legacyReasons(k)}
		if legacy && (len(v.Legacy) == 0 || k.RevokedAt != nil) {
			continue
		}
		custs[k.Customer] = true
		p.Keys = append(p.Keys, v)
	}
	p.Customers = sortedKeys(custs)
	if !legacy {
		cs, err := h.db.Customers(ctx)
		if err != nil {
			return nil, err
		}
		ss, err := h.db.Servers(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			p.Scopes = append(p.Scopes, c.Slug)
			for _, sv := range ss {
				if sv.CustomerID == c.ID && !sv.Retired {
					p.Scopes = append(p.Scopes, c.Slug+"/"+sv.Name)
				}
			}
		}
	}
	return p, nil
}

func (h *Handler) keysPage(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := h.keysPageData(r, s, false)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "keys", p)
}

func (h *Handler) legacyPage(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := h.keysPageData(r, s, true)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "keys", p)
}

func (h *Handler) addKey(w http.ResponseWriter, r *http.Request, s *session) error {
	cust, srv, _ := strings.Cut(r.PostFormValue("scope"), "/")
	_, info, err := keys.ParsePublicKey([]byte(r.PostFormValue("key")))
	if err == nil {
		_, err = h.db.AddKey(r.Context(), actor(s), store.Key{Customer: cust, Server: srv, Fingerprint: info.Fingerprint, Type: info.Type,
			Bits: info.Bits, PublicKey: info.Authorized, Comment: info.Comment})
		if errors.Is(err, store.ErrConflict) {
			err = fmt.Errorf("the key %s is registered already", info.Fingerprint)
		}
	}
	if err != nil {
		p, perr := h.keysPageData(r, s, false)
		if perr != nil {
			return perr
		}
		p.Error = err.Error()
		return h.render(w, r, http.StatusBadRequest, "keys", p)
	}
	return back(w, r, "/keys")
}

func (h *Handler) revokeKey(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.db.RevokeKey(r.Context(), actor(s), r.PostFormValue("fingerprint")); err != nil {
		return err
	}
	return back(w, r, "/keys")
}

// ---- Exceptions ----

type exceptionsPage struct {
	base
	Exceptions []store.Exception
	Stale      []store.Exception
	Fixed      []store.FixedFile
	Scopes     []string
	CanManage  bool
	Pending    bool // a re-evaluation goes on in the background
}

// scopes lists every exception scope: global, customers, servers.
func (h *Handler) scopes(ctx context.Context) ([]string, error) {
	cs, err := h.db.Customers(ctx)
	if err != nil {
		return nil, err
	}
	ss, err := h.db.Servers(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{"global"}
	for _, c := range cs {
		out = append(out, c.Slug)
		for _, sv := range ss {
			if sv.CustomerID == c.ID {
				out = append(out, c.Slug+"/"+sv.Name)
			}
		}
	}
	return out, nil
}

// staleAfter is how long an exception may go without a match before it
// is listed as stale.
const staleAfter = 30 * 24 * time.Hour

func (h *Handler) exceptionsPage(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	p := &exceptionsPage{base: h.base(r, s, "Exceptions"), CanManage: s.can(store.RoleTech), Pending: r.URL.Query().Get("reevaluating") != ""}
	var err error
	if p.Exceptions, err = h.db.Exceptions(ctx); err != nil {
		return err
	}
	cutoff := h.cfg.Now().Add(-staleAfter)
	if p.Stale, err = h.db.StaleExceptions(ctx, cutoff); err != nil {
		return err
	}
	if p.Fixed, err = h.db.NoLongerFailing(ctx, cutoff, 200); err != nil {
		return err
	}
	if p.Scopes, err = h.scopes(ctx); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "exceptions", p)
}

type newExceptionPage struct {
	base
	Scopes      []string
	Scope       string
	Pattern     string
	Suggestions []string
	Back        string
}

// newExceptionPage is the one-click add with room to edit: the exact
// path of a file error, or a pattern made from it.
func (h *Handler) newExceptionPage(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	p := &newExceptionPage{base: h.base(r, s, "Add an exception"), Pattern: q.Get("path"), Scope: q.Get("scope"), Back: safeNext(q.Get("back"))}
	var err error
	if p.Scopes, err = h.scopes(r.Context()); err != nil {
		return err
	}
	if p.Pattern != "" {
		p.Suggestions = append(p.Suggestions, p.Pattern)
		base := path.Base(strings.ReplaceAll(p.Pattern, `\`, "/"))
		p.Suggestions = append(p.Suggestions, "*/"+base)
		if ext := path.Ext(base); ext != "" {
			p.Suggestions = append(p.Suggestions, "*"+ext)
		}
		if dir := path.Dir(p.Pattern); dir != "." && dir != "/" {
			p.Suggestions = append(p.Suggestions, dir+"/*")
		}
	}
	if p.Back == "/" {
		p.Back = "/exceptions"
	}
	return h.render(w, r, http.StatusOK, "exception_new", p)
}

func (h *Handler) addException(w http.ResponseWriter, r *http.Request, s *session) error {
	scope, pattern := strings.TrimSpace(r.PostFormValue("scope")), strings.TrimSpace(r.PostFormValue("pattern"))
	e, err := h.db.AddException(r.Context(), actor(s), scope, pattern, strings.TrimSpace(r.PostFormValue("note")))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusBadRequest, "%v", err)
		}
		return badRequest(err)
	}
	if !h.reevaluate(e, s, fmt.Sprintf("exception %d added by %s", e.ID, s.User.Username)) {
		return back(w, r, "/exceptions?reevaluating=1")
	}
	return back(w, r, "/exceptions")
}

func (h *Handler) exceptionByPath(r *http.Request) (store.Exception, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return store.Exception{}, errorf(http.StatusNotFound, "No such exception.")
	}
	return h.db.ExceptionByID(r.Context(), id)
}

func (h *Handler) editException(w http.ResponseWriter, r *http.Request, s *session) error {
	e, err := h.exceptionByPath(r)
	if err != nil {
		return err
	}
	e, err = h.db.UpdateException(r.Context(), actor(s), e.ID, strings.TrimSpace(r.PostFormValue("pattern")), strings.TrimSpace(r.PostFormValue("note")))
	if err != nil {
		return badRequest(err)
	}
	if !h.reevaluate(e, s, fmt.Sprintf("exception %d edited by %s", e.ID, s.User.Username)) {
		return back(w, r, "/exceptions?reevaluating=1")
	}
	return back(w, r, "/exceptions")
}

func (h *Handler) removeException(w http.ResponseWriter, r *http.Request, s *session) error {
	e, err := h.exceptionByPath(r)
	if err != nil {
		return err
	}
	if err := h.db.RemoveException(r.Context(), actor(s), e.ID); err != nil {
		return err
	}
	if !h.reevaluate(e, s, fmt.Sprintf("exception %d removed by %s", e.ID, s.User.Username)) {
		return back(w, r, "/exceptions?reevaluating=1")
	}
	return back(w, r, "/exceptions")
}

// ---- Staff and own account ----

func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errorf(http.StatusNotFound, "No such user.")
	}
	if id == s.User.ID && r.PostFormValue("role") != store.RoleAdmin {
		return errorf(http.StatusBadRequest, "You cannot take away your own admin role.")
	}
	u := store.User{ID: id, Role: r.PostFormValue("role"), Email: r.PostFormValue("email"), Notify: r.PostFormValue("notify") != ""}
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
	pw := GeneratePassword()
	if err := h.db.SetPassword(r.Context(), actor(s), id, pw); err != nil {
		return err
	}
	p := &usersPage{base: h.base(r, s, "Staff"), NewUser: u.Username, NewPassword: pw, Reset: true}
	if p.Users, err = h.db.Users(r.Context()); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "users", p)
}

type accountPage struct {
	base
	Error string
	Done  bool
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.render(w, r, http.StatusOK, "account", &accountPage{base: h.base(r, s, "Your account"), Done: r.URL.Query().Get("changed") != ""})
}

func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, s *session) error {
	p := &accountPage{base: h.base(r, s, "Your account")}
	if _, err := h.db.Authenticate(r.Context(), s.User.Username, r.PostFormValue("old")); err != nil {
		p.Error = "Your current password is wrong."
		return h.render(w, r, http.StatusBadRequest, "account", p)
	}
	if r.PostFormValue("new") != r.PostFormValue("new2") {
		p.Error = "The two new passwords differ."
		return h.render(w, r, http.StatusBadRequest, "account", p)
	}
	if err := h.db.SetPassword(r.Context(), actor(s), s.User.ID, r.PostFormValue("new")); err != nil {
		p.Error = err.Error()
		return h.render(w, r, http.StatusBadRequest, "account", p)
	}
	// SetPassword ended every session, this one too: start a new one.
	if err := h.startSession(w, r, s.User); err != nil {
		return err
	}
	http.Redirect(w, r, "/account?changed=1", http.StatusSeeOther)
	return nil
}

// ---- Code table ----

type codesPage struct {
	base
	Codes     []parser.CodeInfo
	CanManage bool
}

func (h *Handler) codesPage(w http.ResponseWriter, r *http.Request, s *session) error {
	m, err := h.db.CodeTable(r.Context())
	if err != nil {
		return err
	}
	p := &codesPage{base: h.base(r, s, "Exit codes"), CanManage: s.can(store.RoleTech)}
	for _, c := range m {
		p.Codes = append(p.Codes, c)
	}
	sort.Slice(p.Codes, func(i, j int) bool { return p.Codes[i].Code < p.Codes[j].Code })
	return h.render(w, r, http.StatusOK, "codes", p)
}

func (h *Handler) setCode(w http.ResponseWriter, r *http.Request, s *session) error {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil {
		return errorf(http.StatusNotFound, "No such code.")
	}
	c := parser.CodeInfo{Code: code, Name: strings.TrimSpace(r.PostFormValue("name")), Meaning: strings.TrimSpace(r.PostFormValue("meaning")),
		Action: strings.TrimSpace(r.PostFormValue("action"))}
	if err := h.db.SetCodeInfo(r.Context(), actor(s), c); err != nil {
		return badRequest(err)
	}
	http.Redirect(w, r, fmt.Sprintf("/codes#code%d", code), http.StatusSeeOther)
	return nil
}

// ---- Audit log ----

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
		if lq == "" || strings.Contains(strings.ToLower(e.Actor+" "+e.Action+" "+e.Object), lq) {
			p.Entries = append(p.Entries, e)
		}
	}
	return h.render(w, r, http.StatusOK, "audit", p)
}

// ---- Parser sandbox ----

type sandboxPage struct {
	base
	Servers    []store.Server
	ServerID   int64
	Log        string
	Result     *parser.Result
	Verdict    verdict
	Code       parser.CodeInfo
	Exceptions []store.Exception
	Error      string
}

func (h *Handler) sandboxPage(w http.ResponseWriter, r *http.Request, s *session) error {
	ss, err := h.db.Servers(r.Context())
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "sandbox", &sandboxPage{base: h.base(r, s, "Parser sandbox"), Servers: ss})
}

// sandbox judges a pasted log against a server's exceptions and shows the
// verdict; nothing is stored.
func (h *Handler) sandbox(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	ss, err := h.db.Servers(ctx)
	if err != nil {
		return err
	}
	p := &sandboxPage{base: h.base(r, s, "Parser sandbox"), Servers: ss, Log: r.PostFormValue("log")}
	p.ServerID, _ = strconv.ParseInt(r.PostFormValue("server"), 10, 64)
	if p.ServerID != 0 {
		if p.Exceptions, err = h.db.ExceptionsFor(ctx, p.ServerID); err != nil {
			return err
		}
	}
	res, err := parser.Parse(strings.NewReader(p.Log))
	if err != nil {
		p.Error = err.Error()
		return h.render(w, r, http.StatusBadRequest, "sandbox", p)
	}
	res.Apply(store.Patterns(p.Exceptions))
	_, excepted, _ := store.CountFileErrors(res.FileErrors)
	p.Result, p.Verdict = res, verdictOf(string(res.Status), excepted)
	if p.Code, err = h.db.CodeInfo(ctx, res.Code); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "sandbox", p)
}
