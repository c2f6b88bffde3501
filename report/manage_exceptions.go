package report

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/backupreport/backupreport/store"
)

// exceptionsPage is /exceptions: every exception, and the stale ones (no
// match in 30 days, or excepted files that no longer fail).
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
