package report

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// warningView is a stored warning with its text: what it means and what
// to do, as staff edited them over the built-in ones.
type warningView struct {
	store.Warning
	Info parser.WarningInfo
}

// warningViews joins warnings with their texts.
func warningViews(ws []store.Warning, texts parser.WarningTable) []warningView {
	out := make([]warningView, len(ws))
	for i, w := range ws {
		out[i] = warningView{Warning: w, Info: texts.Lookup(w.Kind)}
	}
	return out
}

// acknowledgeWarning is POST /results/{id}/warnings/{wid}/acknowledge:
// a staff member says they have looked at a warning, and why it is fine
// or what was done. The note is required: it is what the next person
// reads.
func (h *Handler) acknowledgeWarning(w http.ResponseWriter, r *http.Request, s *session) error {
	rid, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	wid, werr := strconv.ParseInt(r.PathValue("wid"), 10, 64)
	if err != nil || werr != nil {
		return errorf(http.StatusNotFound, "There is no warning %q of result %q.", r.PathValue("wid"), r.PathValue("id"))
	}
	ws, err := h.db.WarningsOf(r.Context(), rid)
	if err != nil {
		return err
	}
	var kind parser.WarningKind
	for _, x := range ws[rid] {
		if x.ID == wid {
			kind = x.Kind
		}
	}
	if kind == "" {
		return errorf(http.StatusNotFound, "Result %d has no warning %d.", rid, wid)
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if note == "" {
		return errorf(http.StatusBadRequest, "Say why the warning is fine or what was done about it: the note is what the next person reads.")
	}
	if len(note) > 2000 {
		return errorf(http.StatusBadRequest, "The note is too long (at most 2,000 characters).")
	}
	if err := h.db.AcknowledgeWarning(r.Context(), wid, actor(s), note); err != nil {
		return badRequest(err)
	}
	http.Redirect(w, r, fmt.Sprintf("/results/%d#warn-%s", rid, kind), http.StatusSeeOther)
	return nil
}

// setWarningText is POST /codes/warnings/{kind}: staff's own text for a
// kind of warning.
func (h *Handler) setWarningText(w http.ResponseWriter, r *http.Request, s *session) error {
	info := parser.WarningInfo{Kind: parser.WarningKind(r.PathValue("kind")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Meaning: strings.TrimSpace(r.PostFormValue("meaning")), Action: strings.TrimSpace(r.PostFormValue("action"))}
	if err := h.db.SetWarningInfo(r.Context(), actor(s), info); err != nil {
		return badRequest(err)
	}
	http.Redirect(w, r, "/codes#warn-"+string(info.Kind), http.StatusSeeOther)
	return nil
}
