package report

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/backupreport/backupreport/store"
)

// customersPage is /customers: every customer, its CSR and TSR, and a form
// to add one (admin and tech).
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
	Logs      *customerLogUse
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
	if p.Logs, err = h.customerLogUse(ctx, c, s); err != nil {
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
