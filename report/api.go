package report

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/backupreport/backupreport/report/password"
	"github.com/backupreport/backupreport/store"
)

func (h *Handler) apiStatus(w http.ResponseWriter, r *http.Request, _ *session) error {
	rows, counts, _, _, err := h.nightly(r.Context(), filterOf(r.URL.Query()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"generated_at": h.cfg.Now().UTC(), "window_hours": int(statusWindow.Hours()), "counts": counts, "servers": rows,
	})
}

// csvName makes a download's file name.
func csvName(w http.ResponseWriter, name string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	return csv.NewWriter(w)
}

// csvSafe keeps a spreadsheet from running a cell as a formula: a cell
// starting with = + - @ gets a leading apostrophe. Names come from
// customers' uploads, so they are not trusted.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func timeCSV(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return t.In(loc).Format(time.RFC3339)
}

func (h *Handler) csvStatus(w http.ResponseWriter, r *http.Request, _ *session) error {
	rows, _, _, _, err := h.nightly(r.Context(), filterOf(r.URL.Query()))
	if err != nil {
		return err
	}
	cw := csvName(w, "nightly-"+h.cfg.Now().In(h.loc).Format("2006-01-02")+".csv")
	cw.Write([]string{"customer", "server", "status", "code", "code_name", "received_at", "file_errors", "excepted_errors", "csr", "tsr", "on_it", "result_id", "warnings"})
	for _, x := range rows {
		id := ""
		if x.ResultID != nil {
			id = strconv.FormatInt(*x.ResultID, 10)
		}
		kinds := make([]string, len(x.Warnings))
		for i, w := range x.Warnings {
			kinds[i] = string(w.Kind)
		}
		status := string(x.Status)
		if x.Verdict.Class == "okx" {
			status = "ok_with_exceptions"
		}
		cw.Write([]string{csvSafe(x.Customer), csvSafe(x.Server), status, strconv.Itoa(x.Code), csvSafe(x.CodeName), timeCSV(x.ReceivedAt, h.loc),
			strconv.Itoa(x.FileErrors), strconv.Itoa(x.ExceptedErrors), csvSafe(x.CSR), csvSafe(x.TSR), csvSafe(x.OnIt), id, strings.Join(kinds, " ")})
	}
	cw.Flush()
	return cw.Error()
}

func (h *Handler) apiHistory(w http.ResponseWriter, r *http.Request, _ *session) error {
	hq, err := h.historyQueryOf(r.URL.Query())
	if err != nil {
		return err
	}
	rows, err := h.history(r.Context(), hq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"from": hq.From, "to": hq.To, "servers": rows})
}

func (h *Handler) csvHistory(w http.ResponseWriter, r *http.Request, _ *session) error {
	hq, err := h.historyQueryOf(r.URL.Query())
	if err != nil {
		return err
	}
	rows, err := h.history(r.Context(), hq)
	if err != nil {
		return err
	}
	cw := csvName(w, fmt.Sprintf("history-%s-%s.csv", hq.From, hq.To))
	cw.Write([]string{"customer", "server", "from", "to", "expected_nights", "ok", "ok_with_exceptions", "failed", "missing"})
	for _, x := range rows {
		cw.Write([]string{csvSafe(x.Customer), csvSafe(x.Server), hq.From.String(), hq.To.String(), strconv.Itoa(x.Expected), strconv.Itoa(x.OK),
			strconv.Itoa(x.OKExcepted), strconv.Itoa(x.Failed), strconv.Itoa(x.Missing)})
	}
	cw.Flush()
	return cw.Error()
}

func (h *Handler) apiServerResults(w http.ResponseWriter, r *http.Request, _ *session) error {
	srv, err := h.serverByPath(r)
	if err != nil {
		return err
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	offset = max(offset, 0)
	total, err := h.db.CountResults(r.Context(), srv.ID)
	if err != nil {
		return err
	}
	rows, err := h.db.History(r.Context(), srv.ID, limit, offset)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"server": srv, "total": total, "limit": limit, "offset": offset, "results": rows})
}

func (h *Handler) apiResult(w http.ResponseWriter, r *http.Request, _ *session) error {
	res, fes, err := h.resultByPath(r)
	if err != nil {
		return err
	}
	code, err := h.db.CodeInfo(r.Context(), res.Code)
	if err != nil {
		return err
	}
	resolved, err := h.db.ResolvedErrors(r.Context(), res.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"result": res, "file_errors": fes, "resolved": resolved, "code": code,
		"log_url": fmt.Sprintf("/results/%d/log", res.ID), "status": verdictOf(res.Status, res.ExceptedErrors).Label})
}

// tokensPage lists API tokens: one's own, or everybody's for an admin.
type tokensPage struct {
	base
	Tokens   []store.APIToken
	NewToken string
	NewName  string
}

func (h *Handler) listTokens(r *http.Request, s *session) ([]store.APIToken, error) {
	uid := s.User.ID
	if s.can(store.RoleAdmin) {
		uid = 0
	}
	return h.db.APITokens(r.Context(), uid)
}

func (h *Handler) tokensPage(w http.ResponseWriter, r *http.Request, s *session) error {
	ts, err := h.listTokens(r, s)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "tokens", &tokensPage{base: h.base(r, s, "API tokens"), Tokens: ts})
}

func (h *Handler) createToken(w http.ResponseWriter, r *http.Request, s *session) error {
	tok, t, err := h.db.CreateAPIToken(r.Context(), "web:"+s.User.Username, s.User.ID, r.PostFormValue("name"))
	if err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	ts, err := h.listTokens(r, s)
	if err != nil {
		return err
	}
	// Shown once, on this response only; it is stored hashed.
	return h.render(w, r, http.StatusOK, "tokens", &tokensPage{base: h.base(r, s, "API tokens"), Tokens: ts, NewToken: tok, NewName: t.Name})
}

func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errorf(http.StatusNotFound, "No such token.")
	}
	uid := s.User.ID
	if s.can(store.RoleAdmin) {
		uid = 0
	}
	if err := h.db.RevokeAPIToken(r.Context(), "web:"+s.User.Username, id, uid); err != nil {
		return err
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	return nil
}

type usersPage struct {
	base
	Users       []store.User
	NewUser     string
	NewPassword string
	Reset       bool // NewPassword is a reset of NewUser's password
	Error       string
	TOTP        map[int64]bool // users with a second factor
	RequireTOTP bool
}

func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request, s *session) error {
	us, err := h.db.Users(r.Context())
	if err != nil {
		return err
	}
	p := &usersPage{base: h.base(r, s, "Staff"), Users: us}
	if p.TOTP, err = h.db.TOTPUsers(r.Context()); err != nil {
		return err
	}
	if p.RequireTOTP, err = h.db.RequireTOTP(r.Context()); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "users", p)
}

func (h *Handler) addUser(w http.ResponseWriter, r *http.Request, s *session) error {
	p := &usersPage{base: h.base(r, s, "Staff")}
	pw := r.PostFormValue("password")
	generated := pw == ""
	if generated {
		pw = password.Generate()
	}
	u, err := h.db.AddUser(r.Context(), "web:"+s.User.Username, store.User{Username: r.PostFormValue("username"), Role: store.Role(r.PostFormValue("role")),
		Email: r.PostFormValue("email")}, pw)
	status := http.StatusOK
	if err != nil {
		p.Error, status = err.Error(), http.StatusBadRequest
	} else {
		p.NewUser = u.Username
		if generated {
			p.NewPassword = pw
		}
	}
	if p.Users, err = h.db.Users(r.Context()); err != nil {
		return err
	}
	return h.render(w, r, status, "users", p)
}

func (h *Handler) setUserActive(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errorf(http.StatusNotFound, "No such user.")
	}
	if id == s.User.ID {
		return errorf(http.StatusBadRequest, "You cannot disable yourself.")
	}
	if err := h.db.SetUserActive(r.Context(), "web:"+s.User.Username, id, r.PostFormValue("active") == "1"); err != nil {
		return err
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}
