package report

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
)

// sandboxPage is /sandbox: a pasted stats.out judged with a server's
// exceptions, nothing stored.
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
	// A pasted log is a whole upload.
	parser.Judge(res, parser.Facts{End: parser.EndComplete}, store.Patterns(p.Exceptions))
	_, excepted, _ := store.CountFileErrors(res.FileErrors)
	p.Result, p.Verdict = res, verdictOf(res.Status, excepted)
	if p.Code, err = h.db.CodeInfo(ctx, res.Code); err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "sandbox", p)
}
