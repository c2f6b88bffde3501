package report

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// codesPage is /codes: the meaning and what to do for each rsync code, as
// staff edited them over the parser's defaults.
type codesPage struct {
	base
	Codes     []parser.CodeInfo
	Warnings  []parser.WarningInfo
	CanManage bool
}

func (h *Handler) codesPage(w http.ResponseWriter, r *http.Request, s *session) error {
	table, err := h.db.CodeTable(r.Context())
	if err != nil {
		return err
	}
	texts, err := h.db.WarningTable(r.Context())
	if err != nil {
		return err
	}
	p := &codesPage{base: h.base(r, s, "Exit codes"), CanManage: s.can(store.RoleTech), Codes: table.All(), Warnings: texts.All()}
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
