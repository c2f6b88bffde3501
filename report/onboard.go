package report

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/backupreport/backupreport/keys"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/logkey"
	"github.com/backupreport/backupreport/store/names"
)

// onboardForm is the one form that sets a customer up: what was typed, so
// that a refused form comes back filled in.
type onboardForm struct {
	Customer, CustomerName, Server, Key, KeyFile, ReportFile string
}

type onboardPage struct {
	base
	Form      onboardForm
	Customers []string
	Error     string
}

// onboardedPage shows a server's instructions and its first upload.
type onboardedPage struct {
	base
	Instructions
	Created  string // what the form just did, or ""
	Keys     []store.Key
	Received *store.ResultRow
	Verdict  verdict
	Files    ClientFiles
	Refresh  string
}

func (h *Handler) onboardPage(w http.ResponseWriter, r *http.Request, s *session) error {
	p := &onboardPage{base: h.base(r, s, "Onboard a customer")}
	return h.renderOnboard(w, r, http.StatusOK, p)
}

func (h *Handler) renderOnboard(w http.ResponseWriter, r *http.Request, status int, p *onboardPage) error {
	cs, err := h.db.Customers(r.Context())
	if err != nil {
		return err
	}
	for _, c := range cs {
		p.Customers = append(p.Customers, c.Slug)
	}
	return h.render(w, r, status, "onboard", p)
}

func (h *Handler) onboard(w http.ResponseWriter, r *http.Request, s *session) error {
	f := onboardForm{Customer: strings.TrimSpace(r.PostFormValue("customer")), CustomerName: strings.TrimSpace(r.PostFormValue("customer_name")),
		Server: strings.TrimSpace(r.PostFormValue("server")), Key: r.PostFormValue("key"),
		KeyFile: strings.TrimSpace(r.PostFormValue("keyfile")), ReportFile: strings.TrimSpace(r.PostFormValue("reportfile"))}
	done, err := h.onboardKey(r, s, f)
	var badName *names.Error
	var badForm *formError
	if err != nil && !errors.Is(err, store.ErrConflict) && !errors.As(err, &badName) && !errors.As(err, &badForm) {
		return err // the database failed: a 500, logged
	}
	if err != nil {
		p := &onboardPage{base: h.base(r, s, "Onboard a customer"), Form: f, Error: err.Error()}
		return h.renderOnboard(w, r, http.StatusBadRequest, p)
	}
	q := url.Values{"done": {done}}
	if f.KeyFile != "" {
		q.Set("keyfile", f.KeyFile)
	}
	if f.ReportFile != "" {
		q.Set("reportfile", f.ReportFile)
	}
	http.Redirect(w, r, onboardURL(f.Customer, f.Server)+"?"+q.Encode(), http.StatusSeeOther)
	return nil
}

// onboardKey checks the form and runs the onboarding; the error is one
// sentence for the form.
func (h *Handler) onboardKey(r *http.Request, s *session, f onboardForm) (string, error) {
	if f.Customer == "" || f.Server == "" {
		return "", &formError{"give the customer's short name (as in the upload path) and the server's name"}
	}
	_, info, err := keys.ParsePublicKey([]byte(f.Key))
	if err != nil {
		return "", &formError{err.Error()}
	}
	o, err := h.db.Onboard(r.Context(), actor(s), store.Onboarding{Customer: f.Customer, CustomerName: f.CustomerName, Server: f.Server,
		Key: store.Key{Fingerprint: info.Fingerprint, Type: info.Type, Bits: info.Bits, PublicKey: info.Authorized, Comment: info.Comment}})
	if err != nil {
		return "", err
	}
	h.log.Info("onboarded", logkey.Customer, o.Customer.Slug, logkey.Server, o.Server.Name, logkey.Fingerprint, o.Key.Fingerprint,
		logkey.NewCustomer, o.NewCustomer, logkey.NewServer, o.NewServer)
	var did []string
	if o.NewCustomer {
		did = append(did, "customer "+o.Customer.Slug)
	}
	if o.NewServer {
		did = append(did, "server "+o.Server.Name)
	}
	if !o.KeyAlreadyBound {
		did = append(did, "key "+o.Key.Fingerprint)
	}
	if len(did) == 0 {
		return "nothing new: all of it existed already", nil
	}
	return "created " + strings.Join(did, ", "), nil
}

// formError is a mistake in the form, shown on it.
type formError struct{ msg string }

func (e *formError) Error() string { return e.msg }

func onboardURL(customer, server string) string {
	return "/onboard/" + url.PathEscape(customer) + "/" + url.PathEscape(server)
}

func (h *Handler) onboardedPage(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	sv, err := h.db.ServerByName(ctx, r.PathValue("customer"), r.PathValue("server"))
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, "No server %s/%s. Onboard it on this page's form, or run 'backupreport onboard %s/%s --key FILE'.",
			r.PathValue("customer"), r.PathValue("server"), r.PathValue("customer"), r.PathValue("server"))
	}
	if err != nil {
		return err
	}
	files := ClientFiles{KeyFile: r.URL.Query().Get("keyfile"), ReportFile: r.URL.Query().Get("reportfile")}
	p := &onboardedPage{base: h.base(r, s, "Onboarding "+sv.Customer+"/"+sv.Name), Created: r.URL.Query().Get("done"), Files: files,
		Instructions: NewInstructions(hostFor(h.cfg.BaseURL, r.Host), h.cfg.SSHPort, sv.Customer, sv.Name, h.cfg.HostKeys, files)}
	p.Refresh = r.URL.Path
	if files != (ClientFiles{}) {
		q := url.Values{}
		if files.KeyFile != "" {
			q.Set("keyfile", files.KeyFile)
		}
		if files.ReportFile != "" {
			q.Set("reportfile", files.ReportFile)
		}
		p.Refresh += "?" + q.Encode()
	}
	ks, err := h.db.Keys(ctx)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if k.ServerID != nil && *k.ServerID == sv.ID && k.RevokedAt == nil {
			p.Keys = append(p.Keys, k)
		}
	}
	res, err := h.db.FirstUpload(ctx, sv.ID)
	switch {
	case err == nil:
		p.Received, p.Verdict = &res, verdictOf(res.Status, res.ExceptedErrors)
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("onboarding page: %w", err)
	}
	return h.render(w, r, http.StatusOK, "onboarded", p)
}
