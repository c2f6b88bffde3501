package report

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/backupreport/backupreport/store"
)

// serversPage is /servers: every server with its expected weekdays, and
// the new ones waiting for approval.
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
